package org.peft4j.methods.mlae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.peft4j.api.StepContext;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.testing.RowDropout;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.api.testing.TestContexts;

class MlaeAdapterTest {

    private static MlaeSettings settings(String overrides) {
        return MlaeSettings.from(TestContexts.method("mlae", overrides, "test"));
    }

    private static StepContext step(long seed, NDManager manager) {
        return new StepContext("main", 0, seed, new Random(seed), manager);
    }

    /** Sets a parameter to N(mean, std) values, as after some training. */
    private static void set(Parameter p, SiteHarness h, float mean, float std) {
        p.getArray().intern(h.manager().randomNormal(mean, std, p.getShape(), p.getArray().getDataType()));
        p.getArray().setRequiresGradient(true);
    }

    private static MlaeAdapter trained(SiteHarness h, String name, OutputSlice slice, ExpertMasks masks, MlaeSettings s) {
        int rows = slice == null ? h.site().outFeatures() : slice.size();
        MlaeAdapter adapter = h.attach(new MlaeAdapter(name, h.site().inFeatures(), rows, slice, 0, masks, s));
        set(adapter.b(), h, 0f, 0.5f);
        if (adapter.lambda() != null) {
            set(adapter.lambda(), h, 1f, 0.5f);
        }
        return adapter;
    }

    /** The delta of the batched forward, recomputed expert by expert: sum_i m_i lambda_i (x . a_i) b_i. */
    private static NDArray perExpertDelta(NDArray x, MlaeAdapter adapter, float[] mask) {
        NDArray a = adapter.a().getArray();
        NDArray b = adapter.b().getArray();
        float[] lam = adapter.lambda() == null ? null : adapter.lambda().getArray().toFloatArray();
        NDArray sum = null;
        for (int i = 0; i < mask.length; i++) {
            float c = mask[i] * (lam == null ? 1f : lam[i]);
            NDArray expert = x.matMul(a.get(i).reshape(-1, 1)).matMul(b.get(i).reshape(1, -1)).mul(c);
            sum = sum == null ? expert : sum.add(expert);
        }
        return sum;
    }

    @Test
    void startsAsTheFrozenModelAndLambdaStartsAtItsInit() {
        try (SiteHarness h = SiteHarness.linear(8, 24, SiteHarness.qkvSlices(8), 1)) {
            NDArray x = h.randomInput(2, 5);
            NDArray before = h.forward(x, false);
            ExpertMasks masks = new ExpertMasks(4, new int[] {4}, new double[] {0.5});
            MlaeAdapter adapter = h.attach(new MlaeAdapter("mlae", 8, 24, null, 0, masks, settings("rank = 4, lambda-init = 0.25")));
            masks.draw(step(3, h.manager()));
            assertThat(h.forward(x, false).sub(before).abs().max().getFloat()).isZero();
            assertThat(h.forward(x, true).sub(before).abs().max().getFloat()).isZero();
            assertThat(adapter.lambda().getArray().toFloatArray()).containsOnly(0.25f);
            assertThat(adapter.a().getShape()).isEqualTo(new Shape(4, 8));
            assertThat(adapter.b().getShape()).isEqualTo(new Shape(4, 24));
            // Kaiming-uniform with a = sqrt 5 on [r, in]: U(-1/sqrt(in), 1/sqrt(in))
            assertThat((double) adapter.a().getArray().abs().max().getFloat()).isLessThanOrEqualTo(1 / Math.sqrt(8));
            assertThat(adapter.a().getArray().abs().min().getFloat()).isPositive();
        }
    }

    @Test
    void batchedForwardEqualsTheSumOfRankOneExpertsWithoutAlphaScaling() {
        try (SiteHarness h = SiteHarness.linear(6, 18, SiteHarness.qkvSlices(6), 2)) {
            NDArray x = h.randomInput(2, 3);
            NDArray base = h.forward(x, false);
            ExpertMasks masks = new ExpertMasks(5, new int[] {5}, new double[] {0.4});
            MlaeAdapter adapter = trained(h, "mlae_v", h.site().slice("v"), masks, settings("rank = 5"));
            masks.draw(step(11, h.manager()));
            float[] mask = masks.trainingMask(0);
            assertThat(mask).contains(0f).contains(1f / 0.6f);
            NDArray delta = h.forward(x, true).sub(base);
            NDArray expected = perExpertDelta(x, adapter, mask);
            assertThat(delta.get("..., 0:12").abs().max().getFloat()).isZero(); // q and k rows untouched
            assertThat(delta.get("..., 12:18").sub(expected).abs().max().getFloat()).isLessThan(1e-5f);
            assertThat(expected.abs().max().getFloat()).isGreaterThan(0.1f);
            // eval: every expert, unscaled
            NDArray eval = h.forward(x, false).sub(base).get("..., 12:18");
            assertThat(eval.sub(perExpertDelta(x, adapter, new float[] {1, 1, 1, 1, 1})).abs().max().getFloat())
                    .isLessThan(1e-5f);
        }
    }

    /** Finds a seed whose mask drops some experts and keeps others. */
    private static float[] drawMixedMask(ExpertMasks masks, NDManager manager) {
        for (long seed = 0; ; seed++) {
            masks.draw(step(seed, manager));
            float[] m = masks.trainingMask(0);
            boolean dropped = false;
            boolean kept = false;
            for (float v : m) {
                dropped |= v == 0f;
                kept |= v != 0f;
            }
            if (dropped && kept) {
                return m.clone();
            }
        }
    }

    @Test
    void droppedExpertsGetExactlyZeroGradientAndKeptOnesTheAnalyticOne() {
        try (SiteHarness h = SiteHarness.linear(8, 24, SiteHarness.qkvSlices(8), 3)) {
            ExpertMasks masks = new ExpertMasks(6, new int[] {6}, new double[] {0.5});
            MlaeAdapter adapter = trained(h, "mlae", null, masks, settings("rank = 6"));
            NDArray x = h.randomInput(3, 4);
            NDArray weights = h.manager().randomNormal(new Shape(3, 4, 24));
            float[] mask = drawMixedMask(masks, h.manager());
            Map<String, NDArray> g = h.gradients(x, y -> y.mul(weights).sum());

            // analytic gradients of L = sum(G * y) with y += ((x A^T) * m * lambda) B, G = weights
            NDArray a = adapter.a().getArray();
            NDArray b = adapter.b().getArray();
            float[] lam = adapter.lambda().getArray().toFloatArray();
            NDArray hx = x.matMul(a.transpose()).reshape(12, 6); // x . a_i per token
            NDArray gb = weights.reshape(12, 24).matMul(b.transpose()); // G . b_i per token
            float[] dLambda = hx.mul(gb).sum(new int[] {0}).toFloatArray();
            NDArray xs = x.reshape(12, 8);
            NDArray gs = weights.reshape(12, 24);
            int dropped = 0;
            for (int i = 0; i < 6; i++) {
                float[] gA = g.get("mlae." + MlaeAdapter.A).get(i).toFloatArray();
                float[] gB = g.get("mlae." + MlaeAdapter.B).get(i).toFloatArray();
                float gL = g.get("mlae." + MlaeAdapter.LAMBDA).getFloat(i);
                if (mask[i] == 0f) {
                    dropped++;
                    assertThat(gA).containsOnly(0f);
                    assertThat(gB).containsOnly(0f);
                    assertThat(gL).isZero();
                } else {
                    float c = mask[i] * lam[i];
                    assertThat(mask[i]).isEqualTo(2f); // 1 / (1 - 0.5)
                    assertThat(gL).isCloseTo(mask[i] * dLambda[i], within(1e-3f * Math.max(1f, Math.abs(gL))));
                    float[] expA = xs.transpose().matMul(gb.get(":, " + i)).mul(c).toFloatArray();
                    float[] expB = gs.transpose().matMul(hx.get(":, " + i)).mul(c).toFloatArray();
                    for (int k = 0; k < expA.length; k++) {
                        assertThat(gA[k]).isCloseTo(expA[k], within(1e-4f + 1e-4f * Math.abs(expA[k])));
                    }
                    for (int k = 0; k < expB.length; k++) {
                        assertThat(gB[k]).isCloseTo(expB[k], within(1e-4f + 1e-4f * Math.abs(expB[k])));
                    }
                    assertThat(gB).isNotEqualTo(new float[gB.length]);
                }
            }
            assertThat(dropped).isBetween(1, 5);
        }
    }

    /**
     * Inverted dropout: the mean training output over many masks converges to the inference output. The
     * training delta is sum_i m_i d_i with d_i = lambda_i (x . a_i) b_i, independent m_i in {0, 1/(1-p)}, E m_i
     * = 1 and Var m_i = p / (1-p). So each output element of the mean of N draws has expectation equal to the
     * inference element and standard error se = sqrt(p / (1-p) * sum_i d_i^2 / N). With N = 1500 and 80
     * elements, |z| = |mean - inference| / se stays below 4.5 unless the scaling is wrong (the chance that
     * any of 80 normal z-scores exceeds 4.5 is 80 * 6.8e-6 = 0.0005; the draws are seeded, so the test is
     * deterministic). Without the 1/(1-p) factor the mean would be (1-p) times the inference delta, which the
     * last assertion shows is far outside the tolerance.
     */
    @Test
    void expectedTrainingOutputEqualsTheInferenceOutput() {
        int draws = 1500;
        double p = 0.6;
        try (SiteHarness h = SiteHarness.linear(8, 24, SiteHarness.qkvSlices(8), 4)) {
            NDArray x = h.randomInput(2, 5);
            NDArray base = h.forward(x, false).get("..., 0:8"); // the frozen site alone
            ExpertMasks masks = new ExpertMasks(8, new int[] {8}, new double[] {p});
            MlaeAdapter adapter = trained(h, "mlae_q", h.site().slice("q"), masks, settings("rank = 8"));
            NDArray inference = h.forward(x, false).get("..., 0:8").sub(base);
            int n = (int) inference.size();
            double[] sum = new double[n];
            Random random = new Random(2024);
            for (int d = 0; d < draws; d++) {
                masks.draw(new StepContext("main", 0, d, random, h.manager()));
                try (NDManager scope = h.manager().newSubManager()) {
                    NDArray xd = scope.create(x.toFloatArray(), x.getShape());
                    float[] out = h.forward(xd, true).get("..., 0:8").toFloatArray();
                    float[] b0 = base.toFloatArray();
                    for (int k = 0; k < n; k++) {
                        sum[k] += out[k] - b0[k];
                    }
                }
            }
            // per-element variance of one draw: p/(1-p) * sum_i d_i^2
            double[] variance = new double[n];
            for (int i = 0; i < 8; i++) {
                float[] only = new float[8];
                only[i] = 1f;
                float[] di = perExpertDelta(x, adapter, only).toFloatArray();
                for (int k = 0; k < n; k++) {
                    variance[k] += p / (1 - p) * di[k] * di[k];
                }
            }
            float[] inf = inference.toFloatArray();
            double maxZ = 0;
            double maxZUnscaled = 0;
            for (int k = 0; k < n; k++) {
                double se = Math.sqrt(variance[k] / draws);
                double mean = sum[k] / draws;
                maxZ = Math.max(maxZ, Math.abs(mean - inf[k]) / se);
                maxZUnscaled = Math.max(maxZUnscaled, Math.abs(mean * (1 - p) - inf[k]) / se);
            }
            System.out.printf("MLAE expectation test: max |z| = %.2f over %d elements, %d draws (unscaled: %.1f)%n",
                    maxZ, n, draws, maxZUnscaled);
            assertThat(maxZ).isLessThan(4.5);
            assertThat(maxZUnscaled).isGreaterThan(20);
        }
    }

    @Test
    void mergedEqualsUnmergedOnSlicesAndWholeOutputsWithFixedMasks() {
        try (SiteHarness h = SiteHarness.linear(8, 24, SiteHarness.qkvSlices(8), 5)) {
            // 6 experts, 4 kept for good: the 2 others have non-zero b and lambda, yet must not count
            ExpertMasks masks = new ExpertMasks(6, new int[] {4}, new double[] {0.3});
            MlaeSettings s = settings("rank = 6, masking = mixed, experts-per-layer = [4]");
            MlaeAdapter q = trained(h, "mlae_q", h.site().slice("q"), masks, s);
            trained(h, "mlae_v", h.site().slice("v"), masks, s);
            MlaeAdapter whole = trained(h, "mlae", null, masks, s);
            set(q.a(), h, 0f, 0.5f);
            NDArray x = h.randomInput(3, 7);
            double diff = h.maxMergeDifference(x);
            System.out.printf("MLAE merge: max |merged - unmerged| = %.3g%n", diff);
            assertThat(diff).isLessThanOrEqualTo(1e-5);
            // the fold used the inference mask: the whole-output delta is the 4 kept experts only
            NDArray base;
            h.site().detach(whole);
            base = h.forward(x, false);
            h.site().attach(whole);
            NDArray delta = h.forward(x, false).sub(base);
            NDArray expected = perExpertDelta(x, whole, new float[] {1, 1, 1, 1, 0, 0});
            assertThat(delta.sub(expected).abs().max().getFloat()).isLessThan(1e-5f);
            NDArray withAll = perExpertDelta(x, whole, new float[] {1, 1, 1, 1, 1, 1});
            assertThat(withAll.sub(expected).abs().max().getFloat()).isGreaterThan(0.1f);
        }
    }

    @Test
    void nonAdaptiveHasNoLambdaAndUsesTheMaskAlone() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 6)) {
            ExpertMasks masks = new ExpertMasks(3, new int[] {3}, new double[] {0.5});
            MlaeAdapter adapter = trained(h, "mlae", null, masks, settings("rank = 3, adaptive = false"));
            assertThat(adapter.lambda()).isNull();
            assertThat(adapter.getParameters().keys()).containsExactly(MlaeAdapter.A, MlaeAdapter.B);
            NDArray x = h.randomInput(1, 4);
            NDArray base = h.site().weight().orElseThrow().getArray();
            masks.draw(step(5, h.manager()));
            float[] mask = masks.trainingMask(0);
            NDArray lin = x.matMul(base.transpose()).add(h.site().bias().orElseThrow().getArray());
            NDArray delta = h.forward(x, true).sub(lin);
            assertThat(delta.sub(perExpertDelta(x, adapter, mask)).abs().max().getFloat()).isLessThan(1e-5f);
            assertThat(h.maxMergeDifference(x)).isLessThanOrEqualTo(1e-5);
        }
    }

    @Test
    void inputDropoutDropsWholeInputsOnlyInTraining() {
        // in = 1 and no expert masking: dropout on x drops or rescales each token's whole delta
        try (SiteHarness h = SiteHarness.linear(1, 6, java.util.List.of(), 31)) {
            NDArray x = h.randomInput(4, 50);
            NDArray base = h.forward(x, false);
            MlaeSettings s = settings("rank = 3, masking = none, input-dropout = 0.3, lambda-init = 2");
            ExpertMasks masks = new ExpertMasks(3, new int[] {3}, new double[] {0});
            MlaeAdapter adapter = trained(h, "mlae", null, masks, s);
            NDArray eval = h.forward(x, false);
            assertThat(eval.sub(h.forward(x, false)).abs().max().getFloat()).isZero();
            assertThat(eval.sub(base).sub(perExpertDelta(x, adapter, new float[] {1, 1, 1})).abs().max().getFloat())
                    .isLessThan(1e-5f);
            RowDropout rows = RowDropout.of(h.forward(x, true).sub(base), eval.sub(base), 0.3, 1e-5);
            assertThat(rows.wholeRowsDroppedAndKept()).as(rows.toString()).isTrue();
        }
    }

    @Test
    void aStartsKaimingUniformWithBoundOneOverSqrtIn() {
        try (SiteHarness h = SiteHarness.linear(64, 8, java.util.List.of(), 32)) {
            ExpertMasks masks = new ExpertMasks(16, new int[] {16}, new double[] {0});
            MlaeAdapter adapter = h.attach(new MlaeAdapter("mlae", 64, 8, null, 0, masks, settings("rank = 16")));
            float max = adapter.a().getArray().abs().max().getFloat();
            assertThat(max).isLessThanOrEqualTo(0.125f).isGreaterThan(0.95f * 0.125f); // 1 / sqrt(64)
        }
    }

    @Test
    void gaussianInitIsNormalWithStdOneOverRank() {
        try (SiteHarness h = SiteHarness.linear(64, 64, java.util.List.of(), 7)) {
            ExpertMasks masks = new ExpertMasks(16, new int[] {16}, new double[] {0});
            MlaeAdapter adapter = h.attach(new MlaeAdapter("mlae", 64, 64, null, 0, masks,
                    settings("rank = 16, init = gaussian")));
            NDArray a = adapter.a().getArray();
            double std = Math.sqrt(a.square().mean().getFloat());
            assertThat(std).isCloseTo(1.0 / 16, within(0.004)); // 1024 samples: se of the std ~ 0.0625/sqrt(2048)
            assertThat((double) a.abs().max().getFloat()).isGreaterThan(1.0 / Math.sqrt(64)); // beyond the kaiming bound
        }
    }
}
