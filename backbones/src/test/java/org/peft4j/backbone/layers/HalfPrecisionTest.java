package org.peft4j.backbone.layers;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.Precision;
import org.peft4j.api.nn.Cast;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/**
 * fp16 on the golden fixtures (libtorch computes fp16 on the CPU too, slowly): frozen weights stored in fp16 give
 * timm's fp32 logits within {@link #LOGITS_TOLERANCE}, and fp32 trainable parameters inside the fp16 model (read
 * through gradient-keeping casts) get the fp32 model's gradients within {@link #GRADIENT_TOLERANCE}.
 */
class HalfPrecisionTest {

    /** max abs(fp16 - fp32) / max abs(fp32): measured 0.9e-3 to 2.6e-3 here (one fp16 rounding is 4.9e-4). */
    static final double LOGITS_TOLERANCE = 5e-3;
    /** The same for gradients: measured up to 1.6e-3 (heads) and below 5e-3 (inner parameters). */
    static final double GRADIENT_TOLERANCE = 1e-2;
    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    @ParameterizedTest(name = "{0} at {1} px, {3}")
    @CsvSource({"vit_micro_patch4_32, 0, vit_micro_patch4_32, sdpa, blocks.0.norm1.weight",
            "vit_micro_patch4_32, 0, vit_micro_patch4_32, math, blocks.0.norm1.weight",
            "vit_micro_avg_ls_patch4_32, 0, vit_micro_avg_ls_patch4_32, sdpa, blocks.1.ls1.gamma",
            "swin_micro_patch4_window4_32, 0, swin_micro_patch4_window4_32, sdpa, layers.0.blocks.1.attn.relative_position_bias_table",
            "swin_micro_patch4_window4_32, 40, swin_micro_patch4_window4_32.at40, sdpa, layers.0.blocks.1.attn.relative_position_bias_table",
            "swin_micro_patch4_window4_32, 40, swin_micro_patch4_window4_32.at40, math, layers.0.blocks.1.attn.relative_position_bias_table",
            "convnext_micro, 0, convnext_micro, sdpa, stages.1.blocks.0.conv_dw.weight"})
    void halfPrecisionReproducesTheFp32LogitsAndGradients(String name, int size, String fixture, String kernel, String inner) {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone full = loaded(name, size, kernel, m);
            Backbone half = loaded(name, size, kernel, m);
            NDArray x = Golden.expected(fixture + ".input.npy", m);
            Engine.getInstance().setRandomSeed(5);
            NDArray weights = m.randomNormal(new Shape(x.getShape().get(0), 10));
            List<String> trainable = List.of("head.weight", "head.fc.weight", inner);
            NDArray reference = backward(full, x, weights, trainable, m);

            half.parameters().forEach((key, p) -> p.freeze(!trainable.contains(key)));
            Precision.FP16.convertFrozen(half.block());
            NDArray logits = backward(half, x.toType(DataType.FLOAT16, false), weights, trainable, m);

            half.parameters().forEach((key, p) -> assertThat(p.getArray().getDataType()).as(key)
                    .isEqualTo(trainable.contains(key) ? DataType.FLOAT32 : DataType.FLOAT16));
            assertThat(logits.getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(Golden.relativeError(logits, Golden.expected(fixture + ".logits.npy", m))).isLessThanOrEqualTo(LOGITS_TOLERANCE);
            assertThat(Golden.relativeError(logits, reference)).isLessThanOrEqualTo(LOGITS_TOLERANCE);
            for (String key : trainable) {
                Parameter p = half.parameters().get(key);
                if (p != null) {
                    assertThat(p.getArray().getDataType()).as(key).isEqualTo(DataType.FLOAT32);
                    NDArray grad = p.getArray().getGradient();
                    assertThat(grad.getDataType()).as(key).isEqualTo(DataType.FLOAT32);
                    assertThat(Golden.relativeError(grad, full.parameters().get(key).getArray().getGradient()))
                            .as(key).isLessThanOrEqualTo(GRADIENT_TOLERANCE);
                }
            }
        }
    }

    private static Backbone loaded(String name, int size, String kernel, NDManager m) {
        Backbone model = REGISTRY.build(BackboneOptions.of(name, 10).withImageSize(size)
                .withAttention(AttentionKernel.parse(kernel, "kernel")), m);
        CheckpointLoader.load(model, Golden.fixture(name + ".safetensors"), true);
        return model;
    }

    /** fp32 logits, and gradients of the {@code trainable} parameters (all others frozen) for sum(logits * weights). */
    private static NDArray backward(Backbone model, NDArray x, NDArray weights, List<String> trainable, NDManager m) {
        model.parameters().forEach((key, p) -> p.freeze(!trainable.contains(key)));
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray out = model.block().forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
            NDArray logits = Cast.to(out, DataType.FLOAT32);
            collector.backward(logits.mul(weights).sum());
            return logits;
        }
    }
}
