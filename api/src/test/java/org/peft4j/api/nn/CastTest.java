package org.peft4j.api.nn;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

class CastTest {

    @Test
    void gradientsFlowThroughCastsToHalfAndBack() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0.5f, -1.25f, 3f});
            x.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray half = Cast.to(x, DataType.FLOAT16);
                assertThat(half.getDataType()).isEqualTo(DataType.FLOAT16);
                NDArray back = Cast.to(half.mul(half), DataType.FLOAT32);
                assertThat(back.getDataType()).isEqualTo(DataType.FLOAT32);
                collector.backward(back.sum());
            }
            // d/dx sum(x^2) = 2x, exact in fp16 for these values
            assertThat(x.getGradient().getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(x.getGradient().toFloatArray()).containsExactly(1f, -2.5f, 6f);
        }
    }

    @Test
    void castingToTheSameTypeIsTheIdentityAndValuesSurvive() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1f, 2f});
            assertThat(Cast.to(x, DataType.FLOAT32)).isSameAs(x);
            NDArray half = Cast.to(x, DataType.FLOAT16);
            assertThat(half.getDataType()).isEqualTo(DataType.FLOAT16);
            assertThat(half.toType(DataType.FLOAT32, false).toFloatArray()).containsExactly(1f, 2f);
        }
    }
}
