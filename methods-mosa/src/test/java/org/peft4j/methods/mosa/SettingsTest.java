package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.methods.mosa.ConsistencyLoss.Align;
import org.peft4j.methods.mosa.ConsistencyLoss.AlignScaling;

/** Presets fill what the user leaves at "preset"; explicit values win; bad values name their key. */
class SettingsTest {

    private static MosaSettings mosa(String overrides) {
        return MosaSettings.from(TestContexts.method("mosa", overrides));
    }

    @Test
    void thePaperIsTheDefault() {
        MixtureSettings s = mosa("").mixture();
        assertThat(s.preset()).isEqualTo(MixtureSettings.Preset.PAPER);
        assertThat(s.experts()).isEqualTo(2);
        assertThat(s.split()).isEqualTo(Split.HIERARCHICAL);
        assertThat(s.stopGradient()).isFalse();
        assertThat(s.align()).isEqualTo(Align.SHALLOW);
        assertThat(s.alignScaling()).isEqualTo(AlignScaling.SUM);
        assertThat(s.choice()).isEqualTo(Choice.PER_PASS);
        assertThat(s.merge()).isEqualTo(Merge.EXPECTATION);
        assertThat(s.alpha()).isEqualTo(1.0);
        assertThat(s.beta()).isEqualTo(1.0);
        assertThat(s.sources()).containsEntry("experts", "preset paper");
    }

    @Test
    void theReferenceCodePresetSetsEveryCodeChoiceAtOnce() {
        MixtureSettings s = mosa("preset = reference-code").mixture();
        assertThat(s.experts()).isEqualTo(4);
        assertThat(s.stopGradient()).isTrue();
        assertThat(s.align()).isEqualTo(Align.NONE);
        assertThat(s.alignScaling()).isEqualTo(AlignScaling.CODE);
        assertThat(s.split()).isEqualTo(Split.HIERARCHICAL);
        assertThat(s.merge()).isEqualTo(Merge.EXPECTATION);
        assertThat(s.sources()).containsEntry("stop-gradient", "preset reference-code");
    }

    @Test
    void explicitValuesWinOverThePreset() {
        MixtureSettings s = mosa("preset = reference-code, experts = 2, stop-gradient = false, align = shallow").mixture();
        assertThat(s.experts()).isEqualTo(2);
        assertThat(s.stopGradient()).isFalse();
        assertThat(s.align()).isEqualTo(Align.SHALLOW);
        assertThat(s.alignScaling()).isEqualTo(AlignScaling.CODE); // still the preset's: the Cars script setting
        assertThat(s.sources()).containsEntry("experts", "method.experts").containsEntry("align-scaling", "preset reference-code");
    }

    @Test
    void denseTrainsOneAdapter() {
        assertThat(mosa("split = dense").mixture().experts()).isEqualTo(1);
        assertThat(mosa("split = dense, experts = 1").mixture().experts()).isEqualTo(1);
        assertThatThrownBy(() -> mosa("split = dense, experts = 4"))
                .isInstanceOf(PeftException.class)
                .hasMessageContaining("method.experts in test.conf")
                .hasMessageContaining("split = dense");
    }

    @Test
    void autoTakesTheStylesValuesFromTheCode() {
        MosaSettings adaptformer = mosa("");
        assertThat(adaptformer.scale()).isEqualTo(0.1f);
        assertThat(adaptformer.dropout()).isEqualTo(0.1f);
        assertThat(adaptformer.activation()).isEqualTo(Bottleneck.Act.GELU);
        assertThat(adaptformer.structure(768, Bottleneck.Reads.INPUT, false).layerNorm()).isTrue();
        assertThat(adaptformer.structure(768, Bottleneck.Reads.INPUT, true).layerNorm()).isFalse(); // Swin: reads the normed input
        MosaSettings pfeiffer = mosa("style = pfeiffer");
        assertThat(pfeiffer.scale()).isEqualTo(1f);
        assertThat(pfeiffer.dropout()).isZero();
        assertThat(pfeiffer.activation()).isEqualTo(Bottleneck.Act.RELU);
        assertThat(pfeiffer.structure(768, Bottleneck.Reads.OUTPUT, false).layerNorm()).isTrue();
        MosaSettings houlsby = mosa("style = houlsby");
        assertThat(houlsby.activation()).isEqualTo(Bottleneck.Act.SILU);
        assertThat(houlsby.structure(768, Bottleneck.Reads.STREAM, false).layerNorm()).isFalse();
        MosaSettings explicit = mosa("style = houlsby, scale = 0.5, activation = gelu, layernorm = in");
        assertThat(explicit.scale()).isEqualTo(0.5f);
        assertThat(explicit.activation()).isEqualTo(Bottleneck.Act.GELU);
        assertThat(explicit.structure(768, Bottleneck.Reads.STREAM, true).layerNorm()).isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "experts = 0|method.experts",
        "experts = two|method.experts",
        "choice = per-batch|method.choice",
        "merge = add|method.merge",
        "align = middle|method.align",
        "align-scaling = mean|method.align-scaling",
        "stop-gradient = maybe|method.stop-gradient",
        "alpha = -1|method.alpha",
        "split = sparse-up|method.split",
        "style = serial|method.style",
        "preset = code|method.preset",
        "layernorm-eps = 0|method.layernorm-eps",
        "scale = 0|method.scale",
        "biases = split, split = sparse-down, experts = 8, bottleneck = 4|method.biases",
    })
    void badValuesNameTheirKey(String options, String key) {
        assertThatThrownBy(() -> mosa(options)).isInstanceOf(PeftException.class).hasMessageContaining(key + " in test.conf");
    }

    @Test
    void moslDefaultsToLoraOnQAndVWithBothFactorsSplit() {
        MoslSettings s = MoslSettings.from(TestContexts.method("mosl", ""));
        assertThat(s.targets()).containsExactly("attn.qkv:q", "attn.qkv:v");
        assertThat(s.rank()).isEqualTo(16);
        assertThat(s.scale()).isEqualTo(1f);
        assertThat(s.mixture().split()).isEqualTo(Split.ALL_SPARSE);
        assertThat(MoslSettings.from(TestContexts.method("mosl", "preset = reference-code")).mixture().experts()).isEqualTo(4);
    }
}
