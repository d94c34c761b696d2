package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.peft4j.api.Intermediates;
import org.peft4j.methods.mosa.ConsistencyLoss.Align;
import org.peft4j.methods.mosa.ConsistencyLoss.AlignScaling;

/** Eq. 6's terms on 2 x 3 logits and 2 x 2 x 2 features, against a hand computation in doubles. */
class ConsistencyLossTest {

    private static final float[] Z1 = {0.5f, -1.0f, 2.0f, 0.1f, 0.2f, -0.3f};
    private static final float[] Z2 = {1.5f, 0.0f, -0.5f, -0.7f, 0.9f, 0.4f};
    private static final int B = 2;
    private static final int C = 3;

    private static double[] softmax(float[] z, int row) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < C; c++) {
            max = Math.max(max, z[row * C + c]);
        }
        double sum = 0;
        double[] p = new double[C];
        for (int c = 0; c < C; c++) {
            p[c] = Math.exp(z[row * C + c] - max);
            sum += p[c];
        }
        for (int c = 0; c < C; c++) {
            p[c] /= sum;
        }
        return p;
    }

    /** alpha/2 (KL(p1||p2) + KL(p2||p1)), batch mean. */
    private static double handKl(double alpha) {
        double total = 0;
        for (int b = 0; b < B; b++) {
            double[] p = softmax(Z1, b);
            double[] q = softmax(Z2, b);
            for (int c = 0; c < C; c++) {
                total += p[c] * Math.log(p[c] / q[c]) + q[c] * Math.log(q[c] / p[c]);
            }
        }
        return alpha / 2 * total / B;
    }

    /**
     * d/dz1 of the symmetric KL. With stop-gradient only KL(sg p2 || p1) depends on z1: alpha/(2B) (p1 - p2). Without:
     * alpha/(2B) [p1 (u - sum p1 u) + (p1 - p2)], u = log p1 - log p2.
     */
    private static double[] handGradient(double alpha, boolean stopGradient) {
        double[] grad = new double[B * C];
        for (int b = 0; b < B; b++) {
            double[] p = softmax(Z1, b);
            double[] q = softmax(Z2, b);
            double[] u = new double[C];
            double mean = 0;
            for (int c = 0; c < C; c++) {
                u[c] = Math.log(p[c]) - Math.log(q[c]);
                mean += p[c] * u[c];
            }
            for (int k = 0; k < C; k++) {
                double g = p[k] - q[k];
                if (!stopGradient) {
                    g += p[k] * (u[k] - mean);
                }
                grad[b * C + k] = alpha / (2.0 * B) * g;
            }
        }
        return grad;
    }

    @ParameterizedTest(name = "stop-gradient {0}")
    @ValueSource(booleans = {false, true})
    void symmetricKlValueAndGradientMatchTheHandComputation(boolean stopGradient) {
        double alpha = 0.7;
        ConsistencyLoss loss = new ConsistencyLoss(alpha, 1, stopGradient, Align.NONE, AlignScaling.SUM);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray z1 = m.create(Z1, new Shape(B, C));
            NDArray z2 = m.create(Z2, new Shape(B, C));
            z1.setRequiresGradient(true);
            z2.setRequiresGradient(true);
            float value;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray kl = loss.symmetricKl(z1, z2);
                value = kl.getFloat();
                gc.backward(kl);
            }
            assertThat((double) value).isCloseTo(handKl(alpha), within(1e-6));
            float[] g = z1.getGradient().toFloatArray();
            double[] expected = handGradient(alpha, stopGradient);
            for (int i = 0; i < g.length; i++) {
                assertThat((double) g[i]).as("dL/dz1[%d]", i).isCloseTo(expected[i], within(1e-6));
            }
        }
    }

    @Test
    void alignmentSumsTheMeanSquaredErrorsOfTheAlignedBlocksWithTheChosenScaling() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] a0 = {1, 2, 3, 4, 5, 6, 7, 8};
            float[] b0 = {0, 2, 5, 4, 1, 6, 7, 9};
            float[] a1 = {0.5f, 0, 0, 0, 0, 0, 0, 1};
            float[] b1 = {0, 0, 0, 0, 0, 0, 0, 0};
            double mse0 = (1 + 0 + 4 + 0 + 16 + 0 + 0 + 1) / 8.0;
            double mse1 = (0.25 + 1) / 8.0;
            Shape s = new Shape(2, 2, 2);
            NDArray logits = m.zeros(new Shape(2, 3));
            // blocks 0 and 1 are the shallow half of 4; block 2 would be deep and must not count
            Intermediates first = new Intermediates(logits, Map.of(0, m.create(a0, s), 1, m.create(a1, s), 2, m.ones(s)));
            Intermediates second = new Intermediates(logits, Map.of(0, m.create(b0, s), 1, m.create(b1, s), 2, m.zeros(s)));
            ConsistencyLoss sum = new ConsistencyLoss(1, 0.5, false, Align.SHALLOW, AlignScaling.SUM);
            assertThat(sum.alignedBlocks(4)).containsExactly(0, 1);
            assertThat((double) sum.alignment(first, second, 4).getFloat()).isCloseTo(0.5 * (mse0 + mse1), within(1e-6));
            ConsistencyLoss code = new ConsistencyLoss(1, 0.5, false, Align.SHALLOW, AlignScaling.CODE);
            assertThat((double) code.alignment(first, second, 4).getFloat())
                    .isCloseTo(0.5 * 0.01 / 4 * (mse0 + mse1), within(1e-8));
        }
    }

    @Test
    void alignmentDepthsFollowTable8() {
        assertThat(Align.SHALLOW.blocks(12)).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(Align.DEEP.blocks(12)).containsExactly(6, 7, 8, 9, 10, 11);
        assertThat(Align.ALL.blocks(3)).containsExactly(0, 1, 2);
        assertThat(Align.NONE.blocks(12)).isEmpty();
        // Swin-B's 24 blocks: the first 12, whatever the stage
        assertThat(Align.SHALLOW.blocks(24)).hasSize(12).contains(0, 11);
    }

    @Test
    void oneForwardPassWhenNoTermComparesTwo() {
        assertThat(new ConsistencyLoss(0, 1, false, Align.NONE, AlignScaling.SUM).passes(12)).isEqualTo(1);
        assertThat(new ConsistencyLoss(0, 0, false, Align.SHALLOW, AlignScaling.SUM).passes(12)).isEqualTo(1);
        assertThat(new ConsistencyLoss(0, 1, false, Align.SHALLOW, AlignScaling.SUM).passes(12)).isEqualTo(2);
        assertThat(new ConsistencyLoss(1, 0, false, Align.NONE, AlignScaling.SUM).passes(12)).isEqualTo(2);
    }
}
