package org.peft4j.methods.baselines.bitfit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;
import org.peft4j.methods.baselines.testing.Fixtures;

class BitFitTest {

    /** Per TinyModel block of width 8: qkv 24 + proj 8 + fc1 16 + fc2 8 biases, and norm1 + norm2 8 + 8. */
    private static final int LINEAR_BIASES = 24 + 8 + 16 + 8;
    private static final int NORM_BIASES = 8 + 8;

    /** Keys whose values changed after one SGD step (lr 0.5) on a cross-entropy loss, over every trainable parameter. */
    private static List<String> changedByOneStep(TinyModel model) {
        Map<String, NDArray> before = new LinkedHashMap<>();
        model.backboneParameters().forEach((k, p) -> before.put(k, p.getArray().duplicate()));
        NDArray x = model.manager().randomNormal(Fixtures.shape(3, 5, 8));
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray logits = model.logits(x, true);
            NDArray loss = logits.logSoftmax(1).get(":, 0").neg().mean(); // every sample labelled 0
            collector.backward(loss);
        }
        List<Parameter> trainable = new ArrayList<>();
        model.backboneParameters().values().stream().filter(Parameter::requiresGradient).forEach(trainable::add);
        model.headParameters().values().stream().filter(Parameter::requiresGradient).forEach(trainable::add);
        for (Parameter p : trainable) {
            NDArray grad = p.getArray().getGradient();
            assertThat(grad.abs().max().getFloat()).as("gradient of %s", p.getName()).isPositive();
            NDArray updated = p.getArray().sub(grad.mul(0.5f));
            p.getArray().intern(updated);
            p.getArray().setRequiresGradient(true);
        }
        List<String> changed = new ArrayList<>();
        model.backboneParameters().forEach((k, p) -> {
            if (Fixtures.maxDiff(p.getArray(), before.get(k)) > 0) {
                changed.add(k);
            }
        });
        return changed;
    }

    @Test
    void onlyBiasesTrainAndChangeAfterARealStep() {
        try (TinyModel model = new TinyModel(8, 2, 4, 7)) {
            new BitFitMethod().create(TestContexts.method("bitfit", "")).attach(model);
            List<String> biasKeys = model.backboneParameters().keySet().stream().filter(k -> k.endsWith(".bias")).toList();
            assertThat(biasKeys).hasSize(12);
            model.backboneParameters().forEach((k, p) ->
                    assertThat(p.requiresGradient()).as(k).isEqualTo(k.endsWith(".bias")));
            assertThat(Fixtures.trainable(model)).isEqualTo(2 * (LINEAR_BIASES + NORM_BIASES)); // 144
            assertThat(changedByOneStep(model)).containsExactlyElementsOf(biasKeys);
        }
    }

    @Test
    void withoutNormBiasesTheNormsStayFrozen() {
        try (TinyModel model = new TinyModel(8, 2, 4, 7)) {
            new BitFitMethod().create(TestContexts.method("bitfit", "norm-bias = false")).attach(model);
            assertThat(Fixtures.trainable(model)).isEqualTo(2 * LINEAR_BIASES); // 112
            List<String> changed = changedByOneStep(model);
            assertThat(changed).containsExactly("blocks.0.attn.qkv.bias", "blocks.0.attn.proj.bias",
                    "blocks.0.mlp.fc1.bias", "blocks.0.mlp.fc2.bias", "blocks.1.attn.qkv.bias",
                    "blocks.1.attn.proj.bias", "blocks.1.mlp.fc1.bias", "blocks.1.mlp.fc2.bias");
        }
    }

    @Test
    void swinsRelativePositionBiasTablesTrainTooUnlessSwitchedOff() {
        for (boolean on : new boolean[] {true, false}) {
            LinearSite qkv = LinearSite.builder().setId("layers.0.blocks.0.attn.qkv").setFeatures(4, 12).build();
            try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(qkv)) {
                Parameter table = model.addParameter("layers.0.blocks.0.attn.relative_position_bias_table", Fixtures.shape(9, 2));
                Parameter weight = model.backboneParameters().get("layers.0.blocks.0.attn.qkv.weight");
                new BitFitMethod().create(TestContexts.method("bitfit", "relative-position-bias = " + on)).attach(model);
                assertThat(table.requiresGradient()).isEqualTo(on);
                assertThat(weight.requiresGradient()).isFalse();
                assertThat(Fixtures.trainable(model)).isEqualTo(12 + (on ? 18 : 0));
            }
        }
    }

    @Test
    void aModelWithoutBiasesIsAnError() {
        LinearSite noBias = LinearSite.builder().setId("blocks.0.attn.qkv").setFeatures(4, 12).optBias(false).build();
        try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(noBias)) {
            assertThatThrownBy(() -> new BitFitMethod().create(TestContexts.method("bitfit", "")).attach(model))
                    .isInstanceOf(PeftException.class).hasMessageContaining("no backbone bias");
        }
    }

    @Test
    void badSettingsNameTheKey() {
        assertThatThrownBy(() -> new BitFitMethod().create(TestContexts.method("bitfit", "norm-bias = maybe")))
                .isInstanceOf(PeftException.class).hasMessageContaining("method.norm-bias")
                .hasMessageContaining("true or false");
    }
}
