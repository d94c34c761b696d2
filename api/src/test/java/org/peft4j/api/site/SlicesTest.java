package org.peft4j.api.site;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** Adding a delta to one output slice in place keeps values and gradients of both inputs right. */
class SlicesTest {

    @Test
    void theSliceGetsTheDeltaAndGradientsReachBothTheUpstreamInputAndTheDelta() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(1);
            NDArray x = m.randomNormal(new Shape(2, 3, 4));
            NDArray w = m.randomNormal(new Shape(6, 4)); // a frozen "qkv" of width 6, slice 2..4 plays v
            NDArray d = m.randomNormal(new Shape(2, 3, 2));
            NDArray expected = x.matMul(w.transpose());
            float[] e = expected.toFloatArray();
            float[] dv = d.toFloatArray();
            x.setRequiresGradient(true);
            d.setRequiresGradient(true);
            NDArray weights = m.randomNormal(new Shape(2, 3, 6)); // loss = sum(weights * out)
            float[] out;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = Slices.addToFeatures(x.matMul(w.transpose()), new OutputSlice("v", 2, 4), d);
                out = y.toFloatArray();
                gc.backward(y.mul(weights).sum());
            }
            for (int i = 0; i < out.length; i++) {
                int row = i / 6;
                int col = i % 6;
                float add = col >= 2 && col < 4 ? dv[row * 2 + col - 2] : 0;
                assertThat(out[i]).isCloseTo(e[i] + add, org.assertj.core.data.Offset.offset(1e-5f));
            }
            // d(loss)/d(delta) = the weights on the slice; d(loss)/dx = weights @ w (the frozen path is untouched)
            assertThat(d.getGradient().sub(weights.get("..., 2:4")).abs().max().getFloat()).isLessThan(1e-6f);
            assertThat(x.getGradient().sub(weights.matMul(w)).abs().max().getFloat()).isLessThan(1e-5f);
        }
    }
}
