package org.peft4j.api.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.testing.TinyModel;

class RankOneSimilarityTest {

    /** Cosine of the flattened [out, in] matrices b_i a_i^T and b_j a_j^T, built explicitly. */
    private static double bruteForce(RankOneFactors f, int i, int j) {
        double dot = 0;
        double ni = 0;
        double nj = 0;
        for (int row = 0; row < f.out(); row++) {
            for (int col = 0; col < f.in(); col++) {
                double x = (double) f.b()[i * f.out() + row] * f.a()[i * f.in() + col];
                double y = (double) f.b()[j * f.out() + row] * f.a()[j * f.in() + col];
                dot += x * y;
                ni += x * x;
                nj += y * y;
            }
        }
        return dot / Math.sqrt(ni * nj);
    }

    private static RankOneFactors random(int r, int in, int out, long seed) {
        Random rnd = new Random(seed);
        float[] a = new float[r * in];
        float[] b = new float[r * out];
        float[] c = new float[r];
        for (int k = 0; k < a.length; k++) {
            a[k] = (float) rnd.nextGaussian();
        }
        for (int k = 0; k < b.length; k++) {
            b[k] = (float) rnd.nextGaussian() + 0.3f; // a shared offset makes the b_i alike
        }
        for (int k = 0; k < r; k++) {
            c[k] = 0.5f + k;
        }
        return new RankOneFactors(r, in, out, a, b, c);
    }

    @Test
    void handWorkedExample() {
        // a: (1,0) (1,1) (0,1); b: (1,0) (1,0) (0,1)
        RankOneFactors f = new RankOneFactors(3, 2, 2, new float[] {1, 0, 1, 1, 0, 1}, new float[] {1, 0, 1, 0, 0, 1},
                new float[] {1, 1, 1});
        assertThat(RankOneSimilarity.cosine(f, 0, 1)).isCloseTo(Math.sqrt(0.5), within(1e-12));
        assertThat(RankOneSimilarity.cosine(f, 0, 2)).isZero();
        assertThat(RankOneSimilarity.cosine(f, 1, 2)).isZero();
        RankOneSimilarity.Summary s = RankOneSimilarity.pairwise(f);
        assertThat(s.pairs()).isEqualTo(3);
        assertThat(s.mean()).isCloseTo(Math.sqrt(0.5) / 3, within(1e-12));
    }

    @Test
    void factorisedCosineEqualsTheFlattenedMatrices() {
        RankOneFactors f = random(5, 7, 11, 3);
        double[][] m = RankOneSimilarity.matrix(f);
        double sum = 0;
        for (int i = 0; i < 5; i++) {
            assertThat(m[i][i]).isCloseTo(1.0, within(1e-9));
            for (int j = 0; j < 5; j++) {
                assertThat(m[i][j]).isCloseTo(bruteForce(f, i, j), within(1e-9));
                if (j > i) {
                    sum += m[i][j];
                }
            }
        }
        assertThat(RankOneSimilarity.pairwise(f).mean()).isCloseTo(sum / 10, within(1e-12));
        // coefficients only matter as "used or not": scaling them leaves the measure unchanged
        float[] c = f.coefficients().clone();
        c[2] = -7f;
        RankOneFactors scaled = new RankOneFactors(5, 7, 11, f.a(), f.b(), c);
        assertThat(RankOneSimilarity.pairwise(scaled).mean()).isEqualTo(RankOneSimilarity.pairwise(f).mean());
    }

    @Test
    void unusedAndZeroComponentsAreLeftOut() {
        RankOneFactors f = random(4, 3, 6, 9);
        float[] c = f.coefficients().clone();
        c[1] = 0f; // not used at inference
        float[] b = f.b().clone();
        java.util.Arrays.fill(b, 3 * 6, 4 * 6, 0f); // b_3 = 0: no direction yet
        RankOneFactors g = new RankOneFactors(4, 3, 6, f.a(), b, c);
        RankOneSimilarity.Summary s = RankOneSimilarity.pairwise(g);
        assertThat(s.pairs()).isEqualTo(1);
        assertThat(s.mean()).isCloseTo(bruteForce(f, 0, 2), within(1e-9));
        assertThat(RankOneSimilarity.cosine(g, 0, 1)).isNaN();
    }

    @Test
    void lorasTransposedLayoutIsRead() {
        try (TinyModel model = new TinyModel(4, 1, 2, 1)) {
            // B in LoRA's [out, r] layout: out = 3, r = 2
            NDArray a = model.manager().create(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, new ai.djl.ndarray.types.Shape(2, 4));
            NDArray bt = model.manager().create(new float[] {1, 10, 2, 20, 3, 30}, new ai.djl.ndarray.types.Shape(3, 2));
            RankOneFactors f = RankOneFactors.of(a, bt, true, new float[] {1, 1});
            assertThat(f.b()).containsExactly(1, 2, 3, 10, 20, 30);
            assertThat(f.a()).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
            assertThat(f.out()).isEqualTo(3);
        }
    }

    /** A parameterless adapter that only reports fixed factors. */
    private static final class Fixed extends AdapterBlock implements RankOneComponents {
        private final RankOneFactors factors;

        Fixed(String name, RankOneFactors factors) {
            super(name);
            this.factors = factors;
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            return output;
        }

        @Override
        public RankOneFactors rankOneFactors() {
            return factors;
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void modelSummaryAveragesPairsPerBlockThenBlocks() {
        try (TinyModel model = new TinyModel(4, 2, 2, 1)) {
            RankOneFactors f1 = random(3, 4, 12, 1);
            RankOneFactors f2 = random(4, 4, 12, 2);
            RankOneFactors f3 = random(3, 4, 12, 3);
            model.site("blocks.0.attn.qkv").orElseThrow().attach(new Fixed("x", f1));
            model.site("blocks.0.mlp.fc1").orElseThrow().attach(new Fixed("y", f2));
            model.site("blocks.1.attn.qkv").orElseThrow().attach(new Fixed("x", f3));
            Map<String, Object> result = (Map<String, Object>) RankOneSimilarity.analyse(model).get(RankOneSimilarity.KEY);
            RankOneSimilarity.Summary s1 = RankOneSimilarity.pairwise(f1);
            RankOneSimilarity.Summary s2 = RankOneSimilarity.pairwise(f2);
            RankOneSimilarity.Summary s3 = RankOneSimilarity.pairwise(f3);
            double block0 = (s1.mean() * 3 + s2.mean() * 6) / 9;
            Map<String, Double> blocks = (Map<String, Double>) result.get("blocks");
            assertThat(blocks.get("0")).isCloseTo(block0, within(1e-12));
            assertThat(blocks.get("1")).isCloseTo(s3.mean(), within(1e-12));
            assertThat((double) result.get("model")).isCloseTo((block0 + s3.mean()) / 2, within(1e-12));
            assertThat(result.get("pairs")).isEqualTo(12);
            assertThat((Map<String, Double>) result.get("sites")).containsKeys("blocks.0.attn.qkv/x",
                    "blocks.0.mlp.fc1/y", "blocks.1.attn.qkv/x");
            assertThat(s1.mean()).isNotCloseTo(0.0, within(0.05)); // the offset in b makes components alike
        }
    }
}
