package org.peft4j.methods.dmlora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.PeftException;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;

class DmloraSettingsTest {

    private static DmloraSettings settings(String overrides, String dataset) {
        return DmloraSettings.from(TestContexts.method("dmlora", overrides, dataset));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "cifar, slow, 100, Natural", "vtab-1k/Flowers102, slow, 100, Natural", "eurosat, slow, 100, Specialized",
        "diabetic_retinopathy, slow, 100, Specialized", "dsprites_loc, fast, 10, Structured",
        "sNORB-Elevation, fast, 10, Structured", "clevr_count, fast, 10, Structured",
    })
    void autoPicksThePresetByTheVtabGroupOfTheDatasetName(String dataset, String preset, int every, String group) {
        DmloraSettings s = settings("", dataset);
        assertThat(s.preset().orElseThrow().configName()).isEqualTo(preset);
        assertThat(s.branches()).isEqualTo(8);
        assertThat(s.dropEvery()).isEqualTo(every);
        assertThat(s.presetNote()).contains("VTAB-1k " + group).contains("-> " + preset);
        assertThat(s.dropEverySource()).isEqualTo("preset " + preset);
    }

    @Test
    void otherDatasetsGetTheSlowPresetAndSaySo() {
        DmloraSettings s = settings("", "fashion-1k");
        assertThat(s.dropEvery()).isEqualTo(100);
        assertThat(s.presetNote()).contains("'fashion-1k' is not a VTAB-1k task").contains("slow");
        DmloraSettings none = settings("preset = none", "dsprites_loc");
        assertThat(none.preset()).isEmpty();
        assertThat(none.dropEvery()).isEqualTo(100);
        assertThat(none.dropEverySource()).contains("default");
        assertThat(settings("preset = fast", "cifar").dropEvery()).isEqualTo(10);
    }

    @Test
    void explicitNumbersAlwaysWinOverThePreset() {
        DmloraSettings s = settings("branches = 6, drop-every = 20", "dsprites_loc");
        assertThat(s.branches()).isEqualTo(6);
        assertThat(s.dropEvery()).isEqualTo(20);
        assertThat(s.branchesSource()).isEqualTo("method.branches");
        assertThat(settings("drop-every = 200", "cifar").branchesSource()).isEqualTo("preset slow");
    }

    @Test
    void thePapersDefaults() {
        DmloraSettings s = settings("", "cifar");
        assertThat(s.rank()).isEqualTo(8);
        assertThat(s.scale()).isEqualTo(1f);
        assertThat(s.scheme()).isEqualTo(Scheme.E);
        assertThat(s.minBranches()).isEqualTo(1);
        assertThat(s.roundUp()).isTrue();
        assertThat(s.sharedRoute()).isFalse();
        assertThat(s.resetSurvivors()).isFalse();
        assertThat(s.scaleStage()).isTrue();
        assertThat(s.scaleEpochs()).isEqualTo(10);
        assertThat(s.scaleLr()).isEqualTo(1e-2);
        assertThat(s.perRowScale()).isFalse();
        assertThat(s.scaleTrainHead()).isFalse();
        assertThat(s.scaleRoutedRandomly()).isFalse();
        assertThat(s.targets()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "scheme = F|method.scheme",
        "branches = 2.5|method.branches",
        "branches = many|method.branches",
        "drop-every = 0|method.drop-every",
        "min-branches = 9|method.min-branches",
        "scheme = A, drop-every = 10|method.drop-every",
        "scheme = A, min-branches = 2|method.min-branches",
        "preset = medium|method.preset",
        "odd-halving = sideways|method.odd-halving",
        "routing = sample|method.routing",
        "scale = 0|method.scale",
        "scale-lr = 0|method.scale-lr",
        "scale-warmup-epochs = 11|method.scale-warmup-epochs",
        "scale-shape = matrix|method.scale-shape",
        "scale-routing = best|method.scale-routing",
        "survivor-moments = halve|method.survivor-moments",
        "branch-init = lucky|method.branch-init",
    })
    void badValuesNameTheirKey(String overrides, String key) {
        assertThatThrownBy(() -> settings(overrides, "cifar")).isInstanceOf(PeftException.class)
                .hasMessageStartingWith(key + " in test.conf");
    }

    @Test
    void everyOptionHasACommentForDescribe() {
        Config reference = ConfigFactory.defaultReference().getConfig("peft4j.methods.dmlora");
        assertThat(reference.root().keySet()).hasSize(23);
        reference.root().forEach((key, value) ->
                assertThat(value.origin().comments()).as(key).isNotEmpty());
    }

    @Test
    void convNextLikeModelsWithoutAttentionGetMlpFc1() {
        // TinyModel has attention; an explicit target list is used as written
        try (TinyModel model = new TinyModel(8, 2, 3, 1)) {
            DmloraTuner t = (DmloraTuner) new DmloraMethod().create(TestContexts.method("dmlora", "targets = [mlp.fc1]"));
            t.attach(model);
            assertThat(t.adapters().keySet()).containsExactly("blocks.0.mlp.fc1", "blocks.1.mlp.fc1");
            assertThat(t.adapterList().get(0).rows()).isEqualTo(16);
        }
    }
}
