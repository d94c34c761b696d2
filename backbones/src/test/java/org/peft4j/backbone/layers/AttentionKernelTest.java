package org.peft4j.backbone.layers;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/**
 * The fused SDPA kernel (TorchScript) against the reference ops, in fp32 on the golden fixtures: same logits and
 * same gradients for every parameter, for ViT and for Swin with its relative position bias, shifted-window mask
 * and, at 40 px, windows padded to whole size.
 */
class AttentionKernelTest {

    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    @ParameterizedTest(name = "{0} at {1} px")
    @CsvSource({"vit_micro_patch4_32, 0, vit_micro_patch4_32", "vit_micro_avg_ls_patch4_32, 0, vit_micro_avg_ls_patch4_32",
            "swin_micro_patch4_window4_32, 0, swin_micro_patch4_window4_32",
            "swin_micro_patch4_window4_32, 40, swin_micro_patch4_window4_32.at40"})
    void sdpaGivesTheLogitsAndGradientsOfTheReferenceOps(String name, int size, String fixture) {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone sdpa = loaded(name, size, AttentionKernel.SDPA, m);
            Backbone math = loaded(name, size, AttentionKernel.MATH, m);
            NDArray x = Golden.expected(fixture + ".input.npy", m);
            Engine.getInstance().setRandomSeed(3);
            NDArray weights = m.randomNormal(new Shape(x.getShape().get(0), 10));
            NDArray fused = backward(sdpa, x, weights, m);
            NDArray reference = backward(math, x, weights, m);

            assertThat(Golden.relativeError(fused, reference)).isLessThanOrEqualTo(1e-5);
            // and both are timm's
            assertThat(Golden.relativeError(fused, Golden.expected(fixture + ".logits.npy", m))).isLessThanOrEqualTo(1e-4);
            Map<String, Double> errors = new LinkedHashMap<>();
            sdpa.parameters().forEach((key, p) -> errors.put(key,
                    Golden.relativeError(p.getArray().getGradient(), math.parameters().get(key).getArray().getGradient())));
            assertThat(errors).allSatisfy((key, error) -> assertThat(error).as(key).isLessThanOrEqualTo(1e-5));
            if (name.startsWith("swin")) {
                // the bias tables learn through the fused kernel's mask (full fine-tuning trains them)
                assertThat(sdpa.parameters().get("layers.0.blocks.1.attn.relative_position_bias_table").getArray()
                        .getGradient().abs().sum().getFloat()).isGreaterThan(0f);
            }
        }
    }

    private static Backbone loaded(String name, int size, AttentionKernel kernel, NDManager m) {
        Backbone model = REGISTRY.build(BackboneOptions.of(name, 10).withImageSize(size).withAttention(kernel), m);
        CheckpointLoader.load(model, Golden.fixture(name + ".safetensors"), true);
        return model;
    }

    /** Logits (training mode), and gradients of every parameter for loss sum(logits * weights). */
    private static NDArray backward(Backbone model, NDArray x, NDArray weights, NDManager m) {
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray logits = model.block().forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
            collector.backward(logits.mul(weights).sum());
            return logits;
        }
    }
}
