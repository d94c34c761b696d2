package org.peft4j.methods.dmlora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.peft4j.api.nn.LowRankInit;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.methods.dmlora.HalvingScheduler.Reduction;

class MixLoraAdapterTest {

    private static final int DIM = 16;
    private static final int RANK = 4;

    private static MixLoraAdapter adapter(SiteHarness h, int down, int up, float scale) {
        OutputSlice v = h.site().slice("v");
        return h.attach(new MixLoraAdapter("dmlora_v", DIM, 3 * DIM, v, 0, RANK, down, up,
                LowRankInit.KAIMING.initializer(RANK), false, scale));
    }

    /** Non-zero values in every branch (B starts at 0), as after some training. */
    private static void perturb(SiteHarness h, MixLoraAdapter adapter) {
        for (Parameter p : adapter.upBranches()) {
            p.getArray().addi(h.manager().randomNormal(0f, 0.3f, p.getShape(), p.getArray().getDataType()));
        }
    }

    private static double maxDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    /** {@code frozen} with {@code s x A^T B^T} added to the v rows. */
    private static NDArray expected(NDArray frozen, NDArray x, NDArray a, NDArray b, float s) {
        NDArray delta = x.matMul(a.transpose()).matMul(b.transpose()).mul(s);
        return frozen.get("..., :" + 2 * DIM).concat(frozen.get("..., " + 2 * DIM + ":").add(delta), -1);
    }

    private static NDArray mean(List<Parameter> ps) {
        return NDArrays.stack(new NDList(ps.stream().map(Parameter::getArray).toList())).mean(new int[] {0});
    }

    @Test
    void trainingRoutesThroughOneDownAndOneUpBranch() {
        try (SiteHarness h = SiteHarness.linear(DIM, 3 * DIM, SiteHarness.qkvSlices(DIM), 1)) {
            NDArray x = h.randomInput(2, 5);
            NDArray frozen = h.forward(x, true);
            MixLoraAdapter adapter = adapter(h, 4, 3, 10f);
            perturb(h, adapter);
            for (int[] route : new int[][] {{2, 1}, {0, 2}, {3, 0}}) {
                adapter.route(route[0], route[1]);
                NDArray want = expected(frozen, x, adapter.downBranches().get(route[0]).getArray(),
                        adapter.upBranches().get(route[1]).getArray(), 10f);
                assertThat(maxDiff(h.forward(x, true), want)).as("route %d, %d", route[0], route[1]).isLessThan(1e-5);
            }
            assertThatThrownBy(() -> adapter.route(4, 0)).hasMessageContaining("(4, 0)");
        }
    }

    @Test
    void evaluationUsesTheMixtureMeanAndMergingFoldsExactlyThat() {
        try (SiteHarness h = SiteHarness.linear(DIM, 3 * DIM, SiteHarness.qkvSlices(DIM), 2)) {
            NDArray x = h.randomInput(3, 4);
            NDArray frozen = h.forward(x, false);
            MixLoraAdapter adapter = adapter(h, 8, 8, 1f);
            perturb(h, adapter);
            adapter.route(5, 6); // evaluation ignores routes
            NDArray want = expected(frozen, x, mean(adapter.downBranches()), mean(adapter.upBranches()), 1f);
            assertThat(maxDiff(h.forward(x, false), want)).isLessThan(1e-5);
            double merge = h.maxMergeDifference(x);
            System.out.printf("DMLoRA merge: max |merged - averaged branches| = %.3g%n", merge);
            assertThat(merge).isLessThanOrEqualTo(1e-5);
            h.site().merge();
            assertThat(maxDiff(h.forward(x, false), want)).isLessThan(1e-5);
            h.site().unmerge();
        }
    }

    @Test
    void onlyTheRoutedBranchesGetGradientsAndTheOthersAreIdle() {
        try (SiteHarness h = SiteHarness.linear(DIM, 3 * DIM, SiteHarness.qkvSlices(DIM), 3)) {
            MixLoraAdapter adapter = adapter(h, 4, 4, 1f);
            perturb(h, adapter);
            adapter.route(1, 3);
            Map<String, NDArray> grads = h.gradients(h.randomInput(2, 3), y -> y.square().mean());
            assertThat(grads).hasSize(8);
            grads.forEach((name, g) -> {
                boolean routed = name.equals("dmlora_v.lora_A_1") || name.equals("dmlora_v.lora_B_3");
                assertThat(g.abs().sum().getFloat() > 0).as(name).isEqualTo(routed);
            });
            Set<Parameter> idle = new HashSet<>(adapter.downBranches());
            idle.addAll(adapter.upBranches());
            idle.remove(adapter.downBranches().get(1));
            idle.remove(adapter.upBranches().get(3));
            assertThat(adapter.idleBranches()).containsExactlyInAnyOrderElementsOf(idle);
        }
    }

    @Test
    void averagingHalvingReplacesEveryPairByItsMean() {
        try (SiteHarness h = SiteHarness.linear(DIM, 3 * DIM, SiteHarness.qkvSlices(DIM), 4)) {
            MixLoraAdapter adapter = adapter(h, 8, 8, 1f);
            List<Parameter> before = adapter.downBranches();
            List<NDArray> values = before.stream().map(p -> p.getArray().duplicate()).toList();
            List<NDArray> tensors = before.stream().map(Parameter::getArray).toList();
            HalvingScheduler average = new HalvingScheduler(8, 1, 1, true, Reduction.AVERAGE);
            adapter.shrinkDown(average.shrink(8, 4, new Random(9)), false);

            List<Parameter> after = adapter.downBranches();
            assertThat(after).hasSize(4).doesNotContainAnyElementsOf(before);
            assertThat(tensors).allMatch(NDArray::isReleased);
            assertThat(before).noneMatch(Parameter::isInitialized);
            assertThat(after).extracting(Parameter::getName)
                    .containsExactly("lora_A_8", "lora_A_9", "lora_A_10", "lora_A_11");
            // each new branch is the mean of exactly one pair of old ones, and the pairs cover all eight
            Set<Integer> used = new HashSet<>();
            for (Parameter p : after) {
                int[] pair = findPair(p.getArray(), values);
                assertThat(pair).as(p.getName() + " is the mean of a pair").isNotNull();
                assertThat(used.add(pair[0]) && used.add(pair[1])).as("pairs are disjoint").isTrue();
                assertThat(p.requiresGradient()).isTrue();
            }
            assertThat(used).hasSize(8);
            List<String> names = new ArrayList<>();
            for (Pair<String, Parameter> p : adapter.getParameters()) {
                names.add(p.getKey());
            }
            assertThat(names).filteredOn(n -> n.startsWith("lora_A")).hasSize(4);
        }
    }

    private static int[] findPair(NDArray merged, List<NDArray> values) {
        for (int i = 0; i < values.size(); i++) {
            for (int j = i + 1; j < values.size(); j++) {
                if (maxDiff(values.get(i).add(values.get(j)).div(2), merged) < 1e-7) {
                    return new int[] {i, j};
                }
            }
        }
        return null;
    }

    @Test
    void randomDropKeepsTheSurvivorsThemselvesAndFreesTheRest() {
        try (SiteHarness h = SiteHarness.linear(DIM, 3 * DIM, SiteHarness.qkvSlices(DIM), 5)) {
            MixLoraAdapter adapter = adapter(h, 8, 8, 1f);
            List<Parameter> before = adapter.upBranches();
            List<NDArray> tensors = before.stream().map(Parameter::getArray).toList();
            adapter.shrinkUp(List.of(new int[] {1}, new int[] {4}, new int[] {6}), false);
            assertThat(adapter.upBranches()).containsExactly(before.get(1), before.get(4), before.get(6));
            for (int i : new int[] {0, 2, 3, 5, 7}) {
                assertThat(tensors.get(i).isReleased()).as("branch %d", i).isTrue();
            }
            // reset: same names and values, new parameters (an optimiser starts their moments at zero)
            float[] kept = before.get(4).getArray().toFloatArray();
            adapter.shrinkUp(List.of(new int[] {1}, new int[] {2}), true);
            assertThat(adapter.upBranches()).extracting(Parameter::getName).containsExactly("lora_B_4", "lora_B_6");
            assertThat(adapter.upBranches()).doesNotContainAnyElementsOf(before);
            assertThat(adapter.upBranches().get(0).getArray().toFloatArray()).containsExactly(kept);
            assertThat(adapter.upBranches().get(0).requiresGradient()).isTrue();
        }
    }

    @Test
    void learningTheScaleFreezesTheBranchesAndScalesTheUpdate() {
        for (boolean perRow : new boolean[] {false, true}) {
            try (SiteHarness h = SiteHarness.linear(DIM, 3 * DIM, SiteHarness.qkvSlices(DIM), 6)) {
                NDArray x = h.randomInput(2, 3);
                NDArray frozen = h.forward(x, false);
                MixLoraAdapter adapter = adapter(h, 2, 2, 10f);
                perturb(h, adapter);
                NDArray update = h.forward(x, false).sub(frozen);
                Parameter scale = adapter.learnScale(perRow);
                assertThat(scale.getShape().get(0)).isEqualTo(perRow ? DIM : 1);
                assertThat(scale.getArray().toFloatArray()).containsOnly(10f);
                assertThat(adapter.downBranches()).noneMatch(Parameter::requiresGradient);
                assertThat(adapter.upBranches()).noneMatch(Parameter::requiresGradient);
                assertThat(maxDiff(h.forward(x, false).sub(frozen), update)).isLessThan(1e-5);

                scale.getArray().muli(0.5f); // s 10 -> 5 halves the update
                assertThat(maxDiff(h.forward(x, false).sub(frozen), update.mul(0.5f))).isLessThan(1e-5);
                assertThat(h.maxMergeDifference(x)).isLessThanOrEqualTo(1e-5);
                Map<String, NDArray> grads = h.gradients(x, y -> y.square().mean());
                assertThat(grads.keySet()).containsExactly("dmlora_v.scale");
                assertThat(grads.get("dmlora_v.scale").abs().sum().getFloat()).isPositive();
            }
        }
    }
}
