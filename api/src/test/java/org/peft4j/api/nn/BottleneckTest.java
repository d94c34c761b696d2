package org.peft4j.api.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** The shared bottleneck against a hand computation: norm, down, each non-linearity, up, scale. */
class BottleneckTest {

    private static double gelu(double x) {
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /** Abramowitz-Stegun 7.1.26 is too coarse for 1e-6; a series is exact enough for |x| < 3. */
    private static double erf(double x) {
        double sum = 0;
        double term = x;
        for (int n = 0; n < 60; n++) {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void eachActivationAndTheNormMatchAHandComputation() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] h = {0.3f, -1.2f, 2.0f};
            NDArray x = m.create(h, new Shape(1, 3));
            // down: 2 x 3, up: 3 x 2
            float[] dw = {0.5f, -0.25f, 0.1f, -0.4f, 0.3f, 0.2f};
            float[] db = {0.05f, -0.1f};
            float[] uw = {1f, -1f, 0.5f, 0.25f, -2f, 0.75f};
            float[] ub = {0.1f, 0f, -0.3f};
            NDArray downW = m.create(dw, new Shape(2, 3));
            NDArray upW = m.create(uw, new Shape(3, 2));
            float[] gamma = {1.5f, 0.5f, -1f};
            float[] beta = {0.1f, 0.2f, 0.3f};
            Bottleneck.Norm norm = new Bottleneck.Norm(m.create(gamma), m.create(beta), 1e-6f);

            double mean = (h[0] + h[1] + h[2]) / 3.0;
            double var = 0;
            for (float v : h) {
                var += (v - mean) * (v - mean) / 3.0;
            }
            double[] normed = new double[3];
            for (int i = 0; i < 3; i++) {
                normed[i] = (h[i] - mean) / Math.sqrt(var + 1e-6) * gamma[i] + beta[i];
            }
            for (Bottleneck.Act act : Bottleneck.Act.values()) {
                double[] z = new double[2];
                for (int j = 0; j < 2; j++) {
                    double s = db[j];
                    for (int i = 0; i < 3; i++) {
                        s += dw[j * 3 + i] * normed[i];
                    }
                    z[j] = switch (act) {
                        case GELU -> gelu(s);
                        case RELU -> Math.max(0, s);
                        case SILU -> s * sigmoid(s);
                        case QUICK_GELU -> s * sigmoid(1.702 * s);
                    };
                }
                float[] out = Bottleneck.apply(x, norm, downW, m.create(db), act, 0.1f, upW, m.create(ub), 0.5f, false)
                        .toFloatArray();
                for (int k = 0; k < 3; k++) {
                    double expected = 0.5 * (ub[k] + uw[k * 2] * z[0] + uw[k * 2 + 1] * z[1]);
                    assertThat((double) out[k]).as("%s output %d", act, k).isCloseTo(expected, within(1e-5));
                }
            }
        }
    }

    @Test
    void configNamesParse() {
        assertThat(Bottleneck.Act.of("quick_gelu")).isEqualTo(Bottleneck.Act.QUICK_GELU);
        assertThat(Bottleneck.Act.of("SiLU")).isEqualTo(Bottleneck.Act.SILU);
        assertThat(Bottleneck.Act.GELU.configName()).isEqualTo("gelu");
    }
}
