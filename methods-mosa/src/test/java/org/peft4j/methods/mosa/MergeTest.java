package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peft4j.methods.mosa.Fixtures.maxAbs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.SiteHarness;

/** The two merges on one FFN branch site: expectation = the mean of the experts' outputs, jigsaw = the copy rule. */
class MergeTest {

    private static final int D = 8;
    private static final int R = 4;
    private static final int N = 4;

    private static SiteHarness site() {
        LinearSite ffn = LinearSite.builder().setId("blocks.0.mlp.fc").setFeatures(D, D).optDepth(0)
                .optWeightInit(Initializers.normal(0.3)).build();
        return SiteHarness.of(new BranchSite("blocks.0.mlp", SiteKind.FFN, 0, D, ffn), 3);
    }

    private static MosaAdapter adapter(Split split, boolean splitBiases, Merge merge) {
        MosaAdapter.Structure structure = new MosaAdapter.Structure(D, R, Bottleneck.Reads.INPUT, true, 1e-6f, Bottleneck.Act.GELU,
                0.1f, 0f);
        return new MosaAdapter("mosa", structure, new MosaAdapter.Layout(N, split, splitBiases), merge, new Random(9));
    }

    private static void perturb(MosaAdapter adapter, NDManager m) {
        Fixtures.perturb(java.util.List.of(adapter), m, 17, 0.5);
    }

    /** The site's training-mode output with every side of the adapter on expert {@code e}. */
    private static NDArray withExpert(SiteHarness h, MosaAdapter adapter, int e, NDArray x) {
        for (ExpertSide side : adapter.sides()) {
            if (side.mixed()) {
                side.startStep();
                side.use(e);
                side.select(e);
            }
        }
        NDArray out = h.forward(x, true); // dropout 0: training differs from eval only by the expert
        adapter.sides().forEach(ExpertSide::deselect);
        return out;
    }

    @ParameterizedTest(name = "biases split: {0}")
    @ValueSource(booleans = {false, true})
    void expectationMergeGivesTheMeanOfTheSingleExpertOutputs(boolean splitBiases) {
        try (SiteHarness h = site()) {
            MosaAdapter adapter = h.attach(adapter(Split.HIERARCHICAL, splitBiases, Merge.EXPECTATION));
            perturb(adapter, h.manager());
            NDArray x = h.randomInput(3, 5);
            NDArray mean = h.manager().zeros(new Shape(3, 5, D));
            for (int e = 0; e < N; e++) {
                mean = mean.add(withExpert(h, adapter, e, x));
            }
            mean = mean.div(N);
            NDArray unmerged = h.forward(x, false);
            h.site().merge();
            NDArray merged = h.forward(x, false);
            h.site().unmerge();
            assertThat(maxAbs(merged, mean)).isLessThanOrEqualTo(1e-5f);
            assertThat(maxAbs(unmerged, mean)).isLessThanOrEqualTo(1e-5f);
            // the experts really differ, so the mean is not any one of them
            assertThat(maxAbs(withExpert(h, adapter, 0, x), withExpert(h, adapter, 1, x))).isGreaterThan(1e-3f);
        }
    }

    @Test
    void jigsawMergeCopiesEachExpertsOwnEntries() {
        try (SiteHarness h = site()) {
            MosaAdapter adapter = h.attach(adapter(Split.ALL_SPARSE, false, Merge.JIGSAW));
            perturb(adapter, h.manager());
            Adapter form = adapter.inferenceForm();
            Map<String, Parameter> merged = Map.of(
                    "down_weight", form.getParameters().get("down_weight"),
                    "down_bias", form.getParameters().get("down_bias"),
                    "up_weight", form.getParameters().get("up_weight"),
                    "up_bias", form.getParameters().get("up_bias"));
            for (ExpertSide side : adapter.sides()) {
                for (ExpertTensor t : side.tensors()) {
                    float[] got = merged.get(t.name()).getArray().toFloatArray();
                    float[] expected = new float[got.length];
                    if (t.layout() == ExpertTensor.Layout.SPLIT) {
                        // the copy rule: entry i comes from the expert that owns it, as that expert trained it
                        int[] owner = t.owners();
                        for (int i = 0; i < expected.length; i++) {
                            float[] w = t.parameter(owner[i]).getArray().toFloatArray();
                            expected[i] = w[i];
                        }
                    } else {
                        // a dense copy per expert owns every entry: the copies are averaged
                        for (int e = 0; e < t.experts(); e++) {
                            float[] w = t.parameter(e).getArray().toFloatArray();
                            for (int i = 0; i < expected.length; i++) {
                                expected[i] += w[i] / t.experts();
                            }
                        }
                    }
                    assertThat(got).as(t.name()).containsExactly(expected, org.assertj.core.api.Assertions.within(1e-6f));
                }
            }
            form.clear();
        }
    }

    @Test
    void expectationOfASplitDownProjectionAveragesTheFullExpertsIncludingTheirFrozenStart() {
        try (SiteHarness h = site()) {
            MosaAdapter adapter = h.attach(adapter(Split.SPARSE_DOWN, false, Merge.EXPECTATION));
            ExpertTensor down = adapter.sides().get(0).tensors().get(0);
            // every expert starts as the same full copy (the code deep-copies expert 0); the parts add up to it
            float[] start = new float[Math.toIntExact(down.shape().size())];
            for (int e = 0; e < N; e++) {
                float[] part = down.parameter(e).getArray().toFloatArray();
                for (int i = 0; i < start.length; i++) {
                    start[i] += part[i];
                }
            }
            for (int e = 0; e < N; e++) {
                assertThat(down.expert(Parameter::getArray, e).toFloatArray()).as("expert %d at the start", e)
                        .containsExactly(start, org.assertj.core.api.Assertions.within(1e-7f));
            }
            perturb(adapter, h.manager());
            Adapter form = adapter.inferenceForm();
            float[] got = form.getParameters().get("down_weight").getArray().toFloatArray();
            form.clear();
            // mean over experts of (own trained entries, frozen start elsewhere)
            float[] expected = new float[got.length];
            for (int e = 0; e < N; e++) {
                float[] own = down.parameter(e).getArray().toFloatArray();
                int[] owner = down.owners();
                for (int i = 0; i < expected.length; i++) {
                    expected[i] += (owner[i] == e ? own[i] : start[i]) / N;
                }
            }
            assertThat(got).containsExactly(expected, org.assertj.core.api.Assertions.within(1e-6f));
        }
    }

    @Test
    void unmergeRestoresTheExpertsAndEvaluationAfterwards() {
        try (SiteHarness h = site()) {
            MosaAdapter adapter = h.attach(adapter(Split.HIERARCHICAL, false, Merge.JIGSAW));
            perturb(adapter, h.manager());
            NDArray x = h.randomInput(2, 3);
            List<float[]> before = adapter.getParameters().values().stream().map(p -> p.getArray().toFloatArray()).toList();
            NDArray eval = h.forward(x, false);
            assertThat(h.maxMergeDifference(x)).isLessThanOrEqualTo(1e-6);
            List<float[]> after = adapter.getParameters().values().stream().map(p -> p.getArray().toFloatArray()).toList();
            for (int i = 0; i < before.size(); i++) {
                assertThat(after.get(i)).isEqualTo(before.get(i));
            }
            assertThat(h.site().adapters()).containsExactly(adapter);
            assertThat(maxAbs(h.forward(x, false), eval)).isZero();
        }
    }
}
