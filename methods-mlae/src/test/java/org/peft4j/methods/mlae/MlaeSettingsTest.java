package org.peft4j.methods.mlae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.testing.TestContexts;

class MlaeSettingsTest {

    private static MlaeSettings settings(String overrides, String dataset) {
        return MlaeSettings.from(TestContexts.method("mlae", overrides, dataset));
    }

    @Test
    void table10HasNineteenRowsWithThePapersValues() {
        assertThat(VtabPresets.names()).hasSize(19);
        Map<String, double[]> expected = Map.ofEntries(
                Map.entry("cifar", new double[] {0.7, 2}), Map.entry("caltech101", new double[] {0.1, 0.5}),
                Map.entry("dtd", new double[] {0.7, 0.25}), Map.entry("oxford_flowers102", new double[] {0.7, 1}),
                Map.entry("oxford_iiit_pet", new double[] {0.7, 2}), Map.entry("svhn", new double[] {0.5, 4}),
                Map.entry("sun397", new double[] {0.7, 4}), Map.entry("patch_camelyon", new double[] {0.7, 1}),
                Map.entry("eurosat", new double[] {0.5, 4}), Map.entry("resisc45", new double[] {0.5, 2}),
                Map.entry("diabetic_retinopathy", new double[] {0.7, 0.25}),
                Map.entry("clevr_count", new double[] {0, 0.125}), Map.entry("clevr_dist", new double[] {0, 0.125}),
                Map.entry("dmlab", new double[] {0.5, 2}), Map.entry("kitti", new double[] {0.5, 1}),
                Map.entry("dsprites_loc", new double[] {0.5, 1}), Map.entry("dsprites_ori", new double[] {0.7, 4}),
                Map.entry("smallnorb_azi", new double[] {0, 1}), Map.entry("smallnorb_ele", new double[] {0, 0.25}));
        assertThat(VtabPresets.names()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        expected.forEach((name, v) -> {
            VtabPresets.Preset p = VtabPresets.find(name).orElseThrow();
            assertThat(p.dropout()).as(name).isEqualTo(v[0]);
            assertThat(p.lambdaInit()).as(name).isEqualTo(v[1]);
        });
    }

    @Test
    void datasetNamesAreMatchedLeniently() {
        assertThat(VtabPresets.find("vtab-1k/CIFAR100").orElseThrow().dataset()).isEqualTo("cifar");
        assertThat(VtabPresets.find("sNORB-Azim").orElseThrow().dataset()).isEqualTo("smallnorb_azi");
        assertThat(VtabPresets.find("vtab_1k_clevr_count").orElseThrow().dataset()).isEqualTo("clevr_count");
        assertThat(VtabPresets.find("KITTI-Dist").orElseThrow().dataset()).isEqualTo("kitti");
        assertThat(VtabPresets.find("fashion-1k")).isEmpty();
        assertThat(VtabPresets.find("cub")).isEmpty();
    }

    @Test
    void autoPresetUsesTheRunsDataset() {
        MlaeSettings cifar = settings("", "cifar");
        assertThat(cifar.dropout()).isEqualTo(0.7);
        assertThat(cifar.lambdaInit()).isEqualTo(2.0);
        assertThat(cifar.dropoutSource()).contains("preset cifar");
        MlaeSettings caltech = settings("", "caltech101");
        assertThat(caltech.dropout()).isEqualTo(0.1);
        assertThat(caltech.lambdaInit()).isEqualTo(0.5);
        MlaeSettings count = settings("", "clevr_count");
        assertThat(count.dropout()).isEqualTo(0.0);
        assertThat(count.lambdaInit()).isEqualTo(0.125);
        MlaeSettings other = settings("", "fashion-1k");
        assertThat(other.preset()).isEmpty();
        assertThat(other.dropout()).isEqualTo(MlaeSettings.DEFAULT_DROPOUT);
        assertThat(other.lambdaInit()).isEqualTo(MlaeSettings.DEFAULT_LAMBDA);
        assertThat(other.presetNote()).contains("not in Table 10");
    }

    @Test
    void explicitValuesAlwaysWinOverThePreset() {
        MlaeSettings s = settings("dropout = 0.3", "cifar");
        assertThat(s.dropout()).isEqualTo(0.3);
        assertThat(s.dropoutSource()).isEqualTo("method.dropout");
        assertThat(s.lambdaInit()).isEqualTo(2.0); // the unset one still comes from the preset
        MlaeSettings both = settings("preset = dtd, dropout = 0.1, lambda-init = 4", "cifar");
        assertThat(both.dropout()).isEqualTo(0.1);
        assertThat(both.lambdaInit()).isEqualTo(4.0);
        MlaeSettings named = settings("preset = dsprites_ori", "something-else");
        assertThat(named.dropout()).isEqualTo(0.7);
        assertThat(named.lambdaInit()).isEqualTo(4.0);
        MlaeSettings none = settings("preset = none", "cifar");
        assertThat(none.dropout()).isEqualTo(0.5);
        assertThat(none.lambdaInit()).isEqualTo(1.0);
    }

    @Test
    void nonAdaptiveFixesLambdaAtOne() {
        MlaeSettings s = settings("adaptive = false", "cifar");
        assertThat(s.lambdaInit()).isEqualTo(1.0);
        assertThat(s.dropout()).isEqualTo(0.7);
        assertThatThrownBy(() -> settings("adaptive = false, lambda-init = 2", "cifar"))
                .isInstanceOf(PeftException.class).hasMessageContaining("method.lambda-init");
    }

    @Test
    void badOrIneffectiveSettingsNameTheKey() {
        assertThatThrownBy(() -> settings("rank = 0", "x")).hasMessageContaining("method.rank");
        assertThatThrownBy(() -> settings("dropout = 1.0", "x")).hasMessageContaining("method.dropout");
        assertThatThrownBy(() -> settings("dropout = lots", "x")).hasMessageContaining("method.dropout")
                .hasMessageContaining("'preset'");
        assertThatThrownBy(() -> settings("lambda-init = 0", "x")).hasMessageContaining("method.lambda-init");
        assertThatThrownBy(() -> settings("masking = sometimes", "x")).hasMessageContaining("method.masking");
        assertThatThrownBy(() -> settings("dropout-pattern = zigzag", "x")).hasMessageContaining("method.dropout-pattern");
        assertThatThrownBy(() -> settings("preset = imagenet", "x")).hasMessageContaining("method.preset")
                .hasMessageContaining("caltech101");
        assertThatThrownBy(() -> settings("masking = fixed, dropout = 0.5", "x")).hasMessageContaining("method.dropout")
                .hasMessageContaining("no effect");
        assertThatThrownBy(() -> settings("masking = stochastic, experts-per-layer = [1, 2]", "x"))
                .hasMessageContaining("method.experts-per-layer");
        assertThatThrownBy(() -> settings("dropout-pattern = incremental, dropout = 0.2", "x"))
                .hasMessageContaining("method.dropout");
        assertThatThrownBy(() -> settings("dropout-per-layer = [0.1, 1.5]", "x"))
                .hasMessageContaining("method.dropout-per-layer").hasMessageContaining("block 1");
        assertThatThrownBy(() -> settings("init = xavier", "x")).hasMessageContaining("method.init");
    }

    @Test
    void fixedMaskingIgnoresThePresetsDropoutWithoutComplaint() {
        MlaeSettings s = settings("masking = fixed", "cifar");
        assertThat(s.usesUniformDropout()).isFalse();
        assertThat(s.lambdaInit()).isEqualTo(2.0);
    }

    /** Every option in reference.conf has a one-line comment right above it (the CLI's describe prints it). */
    @Test
    void everyOptionHasACommentAbove() throws IOException {
        List<String> lines;
        try (InputStream in = MlaeMethod.class.getResourceAsStream("/reference.conf")) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.matches("[a-z][a-z0-9-]*\\s*=.*")) {
                keys.add(line.substring(0, line.indexOf('=')).trim());
                assertThat(lines.get(i - 1).trim()).as("comment above " + line).startsWith("# ");
            }
        }
        assertThat(keys).containsExactly("targets", "layers", "exclude", "rank", "init", "adaptive", "lambda-init",
                "masking", "dropout", "dropout-pattern", "dropout-per-layer", "experts-pattern", "experts-per-layer",
                "preset", "input-dropout", "mask-scope", "frozen-eval");
        assertThat(TestContexts.method("mlae", "").settings().root().keySet()).containsExactlyInAnyOrderElementsOf(keys);
    }
}
