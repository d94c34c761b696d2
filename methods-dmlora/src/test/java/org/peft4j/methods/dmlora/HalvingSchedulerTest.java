package org.peft4j.methods.dmlora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.peft4j.methods.dmlora.HalvingScheduler.Reduction;

class HalvingSchedulerTest {

    private static int[] counts(HalvingScheduler s, int epochs) {
        return IntStream.range(0, epochs).map(s::liveBranches).toArray();
    }

    @Test
    void halvesEveryKEpochsDownToTheFloor() {
        assertThat(counts(new HalvingScheduler(8, 2, 1, true, Reduction.DROP), 10))
                .containsExactly(8, 8, 4, 4, 2, 2, 1, 1, 1, 1);
        assertThat(counts(new HalvingScheduler(8, 100, 1, true, Reduction.DROP), 400)[99]).isEqualTo(8);
        assertThat(counts(new HalvingScheduler(8, 100, 1, true, Reduction.DROP), 400)[100]).isEqualTo(4);
        assertThat(counts(new HalvingScheduler(8, 100, 1, true, Reduction.DROP), 400)[399]).isEqualTo(1);
        assertThat(counts(new HalvingScheduler(8, 1, 3, true, Reduction.AVERAGE), 5)).containsExactly(8, 4, 3, 3, 3);
        assertThat(counts(new HalvingScheduler(8, 1, 1, true, Reduction.NONE), 5)).containsExactly(8, 8, 8, 8, 8);
        assertThat(counts(HalvingScheduler.single(), 3)).containsExactly(1, 1, 1);
    }

    @Test
    void oddCountsRoundUpOrDown() {
        assertThat(counts(new HalvingScheduler(6, 1, 1, true, Reduction.DROP), 5)).containsExactly(6, 3, 2, 1, 1);
        assertThat(counts(new HalvingScheduler(6, 1, 1, false, Reduction.DROP), 5)).containsExactly(6, 3, 1, 1, 1);
        assertThat(counts(new HalvingScheduler(7, 1, 2, false, Reduction.DROP), 4)).containsExactly(7, 3, 2, 2);
    }

    @Test
    void randomDropKeepsDistinctSingletonsAndEveryBranchIsEquallyLikelyToSurvive() {
        HalvingScheduler s = new HalvingScheduler(8, 1, 1, true, Reduction.DROP);
        Random random = new Random(5);
        long[] survived = new long[8];
        for (int trial = 0; trial < 8000; trial++) {
            List<int[]> groups = s.shrink(8, 4, random);
            assertThat(groups).hasSize(4).allMatch(g -> g.length == 1);
            int[] kept = groups.stream().mapToInt(g -> g[0]).toArray();
            assertThat(kept).doesNotHaveDuplicates().isSorted();
            assertThat(Arrays.stream(kept).allMatch(k -> k >= 0 && k < 8)).isTrue();
            for (int k : kept) {
                survived[k]++;
            }
        }
        assertThat(ChiSquare.uniform(survived)).as("survivals %s", Arrays.toString(survived))
                .isLessThan(ChiSquare.CRITICAL_7);
    }

    @Test
    void averagingGroupsPartitionTheBranchesIntoPairs() {
        HalvingScheduler s = new HalvingScheduler(8, 1, 1, true, Reduction.AVERAGE);
        Random random = new Random(6);
        assertPartition(s.shrink(8, 4, random), 8, new int[] {2, 2, 2, 2});
        assertPartition(s.shrink(3, 2, random), 3, new int[] {1, 2});
        assertPartition(s.shrink(8, 5, random), 8, new int[] {1, 1, 2, 2, 2});
        // pairs are random: over many draws branch 0 is paired with each of the others
        boolean[] partnered = new boolean[8];
        for (int trial = 0; trial < 200; trial++) {
            for (int[] g : s.shrink(8, 4, random)) {
                if (g[0] == 0) {
                    partnered[g[1]] = true;
                }
            }
        }
        for (int k = 1; k < 8; k++) {
            assertThat(partnered[k]).as("branch 0 paired with %d", k).isTrue();
        }
    }

    private static void assertPartition(List<int[]> groups, int from, int[] sizes) {
        List<Integer> all = new ArrayList<>();
        groups.forEach(g -> Arrays.stream(g).forEach(all::add));
        assertThat(all).containsExactlyInAnyOrderElementsOf(IntStream.range(0, from).boxed().toList());
        assertThat(groups.stream().mapToInt(g -> g.length).sorted().toArray()).containsExactly(sizes);
    }

    @Test
    void routesAreUniformOverTheLiveBranches() {
        HalvingScheduler s = new HalvingScheduler(8, 1, 1, true, Reduction.DROP);
        Random random = new Random(7);
        long[] counts = new long[8];
        for (int i = 0; i < 8000; i++) {
            counts[s.route(0, 8, random)]++;
        }
        assertThat(ChiSquare.uniform(counts)).isLessThan(ChiSquare.CRITICAL_7);
    }

    @Test
    void badSchedulesAndShrinksAreRefused() {
        assertThatThrownBy(() -> new HalvingScheduler(4, 1, 5, true, Reduction.DROP)).hasMessageContaining("floor 5");
        assertThatThrownBy(() -> new HalvingScheduler(4, 0, 1, true, Reduction.DROP)).hasMessageContaining("every 0");
        HalvingScheduler s = new HalvingScheduler(8, 1, 1, true, Reduction.DROP);
        assertThatThrownBy(() -> s.shrink(4, 4, new Random(0))).hasMessageContaining("4 branches to 4");
    }
}
