package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.Map;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Dynamic loss scaling in AdamW: unscaled updates, a skipped step on an injected inf, recovery and growth. */
class LossScalingTest {

    private static Parameter parameter(NDManager m, float... values) {
        Parameter p = Parameter.builder().setName("w").optShape(new Shape(values.length))
                .optInitializer((mm, shape, type) -> mm.create(values, shape)).build();
        p.initialize(m, DataType.FLOAT32);
        return p;
    }

    /** Backward of {@code scale * sum(w * c)}: gradient {@code scale * c}. */
    private static void backward(Parameter w, LossScaler scaler, float... c) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = w.getArray().mul(w.getArray().getManager().create(c)).sum();
            gc.backward(scaler.scaled(loss));
        }
    }

    @Test
    void aStepWithAnInfiniteGradientIsSkippedTheScaleDropsAndTrainingRecovers() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter w = parameter(m, 1f, 2f);
            Parameter reference = parameter(m, 1f, 2f);
            LossScaler scaler = LossScaler.dynamic(1024, 2);
            AdamW opt = new AdamW(Map.of("w", w), 0, 0.9, 0.999, 1e-8, 0);
            AdamW plain = new AdamW(Map.of("w", reference), 0, 0.9, 0.999, 1e-8, 0);

            backward(w, scaler, Float.POSITIVE_INFINITY, 1f); // an overflowed gradient
            double norm = opt.step(0.1, Set.of(), scaler);
            assertThat(norm).isInfinite();
            assertThat(w.getArray().toFloatArray()).containsExactly(1f, 2f);
            assertThat(w.getArray().getGradient().abs().sum().getFloat()).isZero();
            assertThat(opt.steps("w")).isZero();
            assertThat(scaler.scale()).isEqualTo(512);
            assertThat(scaler.skipped()).isEqualTo(1);

            // the next, finite step is the unscaled AdamW step: the same as without any scaling
            backward(w, scaler, 0.5f, -3f);
            backward(reference, LossScaler.none(), 0.5f, -3f);
            assertThat(opt.step(0.1, Set.of(), scaler)).isCloseTo(Math.hypot(0.5, -3), Offset.offset(1e-6));
            assertThat(plain.step(0.1)).as("no scaling and no clipping: the norm is not read").isNaN();
            assertThat(w.getArray().toFloatArray()).containsExactly(reference.getArray().toFloatArray());
            assertThat(opt.steps("w")).isEqualTo(1);
            assertThat(scaler.scale()).isEqualTo(512);

            // two good steps in a row (the growth interval): the scale doubles
            backward(w, scaler, 0.5f, -3f);
            opt.step(0.1, Set.of(), scaler);
            assertThat(scaler.scale()).isEqualTo(1024);
        }
    }

    @Test
    void aTrainableParameterStoredInHalfBecomesAnFp32MasterWhenItJoins() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter w = parameter(m, 1.5f, -2f);
            org.peft4j.api.nn.ParameterTypes.convert(w, DataType.FLOAT16);
            assertThat(w.getArray().getDataType()).isEqualTo(DataType.FLOAT16);
            new AdamW(Map.of("w", w), 0, 0.9, 0.999, 1e-8, 0);
            assertThat(w.getArray().getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(w.getArray().toFloatArray()).containsExactly(1.5f, -2f);
            assertThat(w.getArray().hasGradient()).isTrue();
        }
    }
}
