package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.peft4j.methods.mosa.Fixtures.maxAbs;
import static org.peft4j.methods.mosa.Fixtures.mosl;
import static org.peft4j.methods.mosa.Fixtures.perturb;
import static org.peft4j.methods.mosa.Fixtures.tokens;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.testing.TinyModel;

/** MoSL's merge folds s * B̄ Ā into the q and v rows of qkv, exactly as a hand computation of the factors says. */
class MoslTest {

    /** Ā or B̄ of a one-tensor side, by hand from the experts' arrays. */
    private static double[] mergedByHand(ExpertTensor t, Merge merge) {
        int n = Math.toIntExact(t.shape().size());
        double[] out = new double[n];
        if (t.layout() == ExpertTensor.Layout.SHARED) {
            float[] w = t.parameter(0).getArray().toFloatArray();
            for (int i = 0; i < n; i++) {
                out[i] = w[i];
            }
            return out;
        }
        int[] owner = t.owners();
        for (int e = 0; e < t.experts(); e++) {
            float[] w = t.expert(Parameter::getArray, e).toFloatArray();
            for (int i = 0; i < n; i++) {
                if (merge == Merge.EXPECTATION) {
                    out[i] += w[i] / t.experts();
                } else if (owner[i] == e) {
                    out[i] = w[i];
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "{0}, {1}")
    @CsvSource({"all-sparse, expectation", "all-sparse, jigsaw", "hierarchical, expectation", "sparse-down, jigsaw"})
    void mergeFoldsScaleTimesMergedBTimesMergedAIntoTheSliceRows(String split, String merge) {
        try (TinyModel model = Fixtures.model(); NDManager m = NDManager.newBaseManager()) {
            MixtureTuner tuner = mosl("experts = 3, rank = 4, scale = 0.5, split = " + split + ", merge = " + merge);
            tuner.attach(model);
            perturb(tuner, m, 8);
            NDArray x = tokens(m, 2);
            NDArray unmerged = model.logits(x, false);
            AdapterSite qkv = model.site("blocks.1.attn.qkv").orElseThrow();
            float[] w0 = qkv.weight().orElseThrow().getArray().toFloatArray();
            model.sites().forEach(AdapterSite::merge);
            float[] w = qkv.weight().orElseThrow().getArray().toFloatArray();
            NDArray merged = model.logits(x, false);
            model.sites().forEach(AdapterSite::unmerge);
            assertThat(maxAbs(merged, unmerged)).isLessThanOrEqualTo(1e-5f);
            assertThat(qkv.weight().orElseThrow().getArray().toFloatArray()).isEqualTo(w0);

            int d = Fixtures.DIM;
            int r = 4;
            Merge mode = Merge.valueOf(merge.toUpperCase(java.util.Locale.ROOT));
            double[] expected = new double[w0.length];
            for (int i = 0; i < w0.length; i++) {
                expected[i] = w0[i];
            }
            assertThat(qkv.adapters()).hasSize(2); // q and v
            for (var a : qkv.adapters()) {
                MoslAdapter adapter = (MoslAdapter) a;
                double[] am = mergedByHand(adapter.sides().get(0).tensors().get(0), mode); // [r, d]
                double[] bm = mergedByHand(adapter.sides().get(1).tensors().get(0), mode); // [d, r]
                int rowOffset = adapter.structure().slice().start();
                for (int row = 0; row < d; row++) {
                    for (int col = 0; col < d; col++) {
                        double delta = 0;
                        for (int k = 0; k < r; k++) {
                            delta += bm[row * r + k] * am[k * d + col];
                        }
                        expected[(rowOffset + row) * d + col] += 0.5 * delta;
                    }
                }
            }
            for (int i = 0; i < w.length; i++) {
                assertThat((double) w[i]).as("merged qkv weight entry %d", i).isCloseTo(expected[i], within(1e-5));
            }
            // k's rows are untouched
            for (int i = d * d; i < 2 * d * d; i++) {
                assertThat(w[i]).isEqualTo(w0[i]);
            }
        }
    }
}
