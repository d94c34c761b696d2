package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** Idle parameters (unchosen experts, unrouted branches) and a changing trainable set, as PyTorch's AdamW treats them. */
class AdamWTest {

    private static Parameter parameter(NDManager m, String name, float... values) {
        Parameter p = Parameter.builder().setName(name).optShape(new Shape(1, values.length))
                .optInitializer((mm, shape, type) -> mm.create(values, shape)).build();
        p.initialize(m, DataType.FLOAT32);
        return p;
    }

    /** grad = 2 w for every parameter. */
    private static void backwardSquares(Parameter... ps) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            var loss = ps[0].getArray().square().sum();
            for (int i = 1; i < ps.length; i++) {
                loss = loss.add(ps[i].getArray().square().sum());
            }
            gc.backward(loss);
        }
    }

    @Test
    void anIdleParameterIsLeftExactlyAsItIsAndKeepsItsOwnStepCount() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter a = parameter(m, "a", 1f, -2f);
            Parameter b = parameter(m, "b", 3f, 4f);
            Map<String, Parameter> all = new LinkedHashMap<>();
            all.put("a", a);
            all.put("b", b);
            double lr = 0.01;
            double wd = 0.1;
            AdamW opt = new AdamW(all, wd, 0.9, 0.999, 1e-8, 0);
            backwardSquares(a, b);
            opt.step(lr);
            float[] bAfterOne = b.getArray().toFloatArray();

            backwardSquares(a, b);
            opt.step(lr, Set.of(b)); // b was not chosen: no moment update, no decay, no count
            assertThat(b.getArray().toFloatArray()).containsExactly(bAfterOne);
            assertThat(b.getArray().getGradient().abs().sum().getFloat()).isZero();
            assertThat(opt.steps("a")).isEqualTo(2);
            assertThat(opt.steps("b")).isEqualTo(1);

            // b's second real update uses its own count (2) for the bias correction, with moments from step 1 only
            float[] w = bAfterOne.clone();
            float[] g0 = {6f, 8f};
            backwardSquares(a, b);
            opt.step(lr);
            float[] got = b.getArray().toFloatArray();
            for (int i = 0; i < 2; i++) {
                double g1 = 2 * w[i];
                double mean = 0.9 * (0.1 * g0[i]) + 0.1 * g1;
                double var = 0.999 * (0.001 * g0[i] * g0[i]) + 0.001 * g1 * g1;
                double mHat = mean / (1 - 0.9 * 0.9);
                double vHat = var / (1 - 0.999 * 0.999);
                double expected = w[i] * (1 - lr * wd) - lr * mHat / (Math.sqrt(vHat) + 1e-8);
                assertThat((double) got[i]).isCloseTo(expected, Offset.offset(1e-6));
            }
        }
    }

    /** PyTorch's AdamW on one parameter in float64, with grad = 2 w as {@link #backwardSquares} makes it. */
    private static final class ReferenceAdamW {
        final double[] w;
        final double[] mean;
        final double[] variance;
        int steps;

        ReferenceAdamW(float... w) {
            this.w = new double[w.length];
            for (int i = 0; i < w.length; i++) {
                this.w[i] = w[i];
            }
            mean = new double[w.length];
            variance = new double[w.length];
        }

        void step(double lr, double wd) {
            steps++;
            for (int i = 0; i < w.length; i++) {
                double g = 2 * w[i];
                mean[i] = 0.9 * mean[i] + 0.1 * g;
                variance[i] = 0.999 * variance[i] + 0.001 * g * g;
                double mHat = mean[i] / (1 - Math.pow(0.9, steps));
                double vHat = variance[i] / (1 - Math.pow(0.999, steps));
                w[i] = w[i] * (1 - lr * wd) - lr * mHat / (Math.sqrt(vHat) + 1e-8);
            }
        }
    }

    @Test
    void parametersWithDifferentStepCountsInterleavedInOrderEachGetTheirOwnFactors() {
        // the kernel updates parameters sharing decay and step count together: a and c (3 steps) around b (2 steps)
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter a = parameter(m, "a", 1f, -2f);
            Parameter b = parameter(m, "b", 3f, 4f);
            Parameter c = parameter(m, "c", -5f, 0.5f);
            Map<String, Parameter> all = new LinkedHashMap<>();
            all.put("a", a);
            all.put("b", b);
            all.put("c", c);
            double lr = 0.05;
            double wd = 0.2;
            ReferenceAdamW refA = new ReferenceAdamW(1f, -2f);
            ReferenceAdamW refB = new ReferenceAdamW(3f, 4f);
            ReferenceAdamW refC = new ReferenceAdamW(-5f, 0.5f);
            AdamW opt = new AdamW(all, wd, 0.9, 0.999, 1e-8, 0);
            for (int step = 0; step < 3; step++) {
                backwardSquares(a, b, c);
                boolean bIdle = step == 1;
                opt.step(lr, bIdle ? Set.of(b) : Set.of());
                refA.step(lr, wd);
                refC.step(lr, wd);
                if (!bIdle) {
                    refB.step(lr, wd);
                }
            }
            assertThat(opt.steps("b")).isEqualTo(2);
            for (var pair : Map.of(a, refA, b, refB, c, refC).entrySet()) {
                float[] got = pair.getKey().getArray().toFloatArray();
                for (int i = 0; i < got.length; i++) {
                    assertThat((double) got[i]).as(pair.getKey().getName() + "[" + i + "]")
                            .isCloseTo(pair.getValue().w[i], Offset.offset(1e-5));
                }
            }
        }
    }

    @Test
    void syncReleasesTheStateOfRemovedParametersAndStartsNewOnesFromZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter a = parameter(m, "a", 1f, -2f);
            Parameter b = parameter(m, "b", 3f, 4f);
            AdamW opt = new AdamW(new LinkedHashMap<>(Map.of("a", a, "b", b)), 0, 0.9, 0.999, 1e-8, 0);
            backwardSquares(a, b);
            opt.step(0.01);
            var bState = opt.state().subList(2, 4).stream().toList();
            if (!opt.names().iterator().next().equals("a")) {
                bState = opt.state().subList(0, 2).stream().toList();
            }
            Parameter c = parameter(m, "c", 5f, 6f);
            opt.sync(Map.of("a", a, "c", c));
            assertThat(opt.names()).containsExactlyInAnyOrder("a", "c");
            assertThat(opt.state()).hasSize(4);
            assertThat(bState).allMatch(x -> x.isReleased());
            assertThat(opt.steps("a")).isEqualTo(1);
            assertThat(opt.steps("c")).isZero();
            assertThatThrownBy(() -> opt.steps("b")).hasMessageContaining("b");
        }
    }

    @Test
    void clipsTheGlobalNormAndZeroesEveryGradientItUsed() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter a = parameter(m, "a", 3f, 0f);
            Parameter b = parameter(m, "b", 0f, 4f);
            // eps 0.1 makes the update depend on the gradient's size, so clipping shows in the weights
            double lr = 0.5;
            double eps = 0.1;
            AdamW opt = new AdamW(new LinkedHashMap<>(Map.of("a", a, "b", b)), 0, 0.9, 0.999, eps, 1.0);
            backwardSquares(a, b); // grads (6, 0) and (0, 8): global norm 10
            double norm = opt.step(lr);
            assertThat(norm).isCloseTo(10.0, Offset.offset(1e-5));
            double clip = 1.0 / (10.0 + 1e-6);
            // first step: m_hat = g, v_hat = g^2, so w -= lr * g / (|g| + eps) with g the clipped gradient
            double ga = 6 * clip;
            double gb = 8 * clip;
            assertThat((double) a.getArray().getFloat(0, 0)).isCloseTo(3 - lr * ga / (ga + eps), Offset.offset(1e-6));
            assertThat((double) b.getArray().getFloat(0, 1)).isCloseTo(4 - lr * gb / (gb + eps), Offset.offset(1e-6));
            assertThat(a.getArray().getFloat(0, 1)).isZero();
            // the gradients were consumed: none carries into the next step
            assertThat(a.getArray().getGradient().abs().sum().getFloat()).isZero();
            assertThat(b.getArray().getGradient().abs().sum().getFloat()).isZero();
        }
    }
}
