package org.peft4j.methods.mlae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LayerPatternTest {

    private static int[] counts(LayerPattern p, int depth, int rank) {
        return p.expertCounts(depth, rank, new Random(7));
    }

    @Test
    void fixedPatternsAreAppendixA5AtTwelveBlocksRankEight() {
        assertThat(counts(LayerPattern.INCREMENTAL, 12, 8)).containsExactly(2, 2, 2, 6, 6, 6, 10, 10, 10, 14, 14, 14);
        assertThat(counts(LayerPattern.DECREMENTAL, 12, 8)).containsExactly(14, 14, 14, 10, 10, 10, 6, 6, 6, 2, 2, 2);
        assertThat(counts(LayerPattern.HOURGLASS, 12, 8)).containsExactly(14, 14, 14, 2, 2, 2, 2, 2, 2, 14, 14, 14);
        assertThat(counts(LayerPattern.PROTRUDING, 12, 8)).containsExactly(2, 2, 2, 14, 14, 14, 14, 14, 14, 2, 2, 2);
        assertThat(counts(LayerPattern.UNIFORM, 12, 8)).containsOnly(8);
    }

    @Test
    void stochasticPatternsAreAppendixA5AtTwelveBlocks() {
        assertThat(LayerPattern.INCREMENTAL.dropouts(12, 0.5, new Random(1)))
                .containsExactly(0.8, 0.8, 0.7, 0.7, 0.6, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0);
        assertThat(LayerPattern.DECREMENTAL.dropouts(12, 0.5, new Random(1)))
                .containsExactly(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0.8);
        assertThat(LayerPattern.HOURGLASS.dropouts(12, 0.5, new Random(1)))
                .containsExactly(0.0, 0.1, 0.3, 0.5, 0.6, 0.8, 0.8, 0.6, 0.5, 0.3, 0.1, 0.0);
        assertThat(LayerPattern.PROTRUDING.dropouts(12, 0.5, new Random(1)))
                .containsExactly(0.8, 0.6, 0.5, 0.3, 0.1, 0.0, 0.0, 0.1, 0.3, 0.5, 0.6, 0.8);
        assertThat(LayerPattern.UNIFORM.dropouts(12, 0.3, new Random(1))).containsOnly(0.3);
    }

    @ParameterizedTest
    @EnumSource(LayerPattern.class)
    void everyFixedPatternKeepsTheBudgetAtAnyDepthAndRank(LayerPattern pattern) {
        for (int depth : new int[] {1, 2, 3, 4, 6, 12, 24}) {
            for (int rank : new int[] {1, 2, 4, 8, 16}) {
                int[] c = counts(pattern, depth, rank);
                assertThat(c).hasSize(depth);
                assertThat(Arrays.stream(c).sum()).as("%s depth %d rank %d", pattern, depth, rank).isEqualTo(depth * rank);
                assertThat(Arrays.stream(c).min().orElseThrow()).isGreaterThanOrEqualTo(0);
            }
        }
    }

    @Test
    void otherDepthsFollowTheShape() {
        // 6 blocks: each pair of the 12-block curve, interpolated at its centre, scaled back to 6 x 8 = 48
        assertThat(counts(LayerPattern.INCREMENTAL, 6, 8)).containsExactly(2, 4, 6, 10, 12, 14);
        assertThat(counts(LayerPattern.HOURGLASS, 6, 8)).containsExactly(14, 8, 2, 2, 8, 14);
        // 24 blocks: the 12-block steps, a quarter position in between
        int[] deep = counts(LayerPattern.INCREMENTAL, 24, 8);
        assertThat(deep[0]).isEqualTo(2);
        assertThat(deep[23]).isEqualTo(14);
        for (int l = 1; l < 24; l++) {
            assertThat(deep[l]).isGreaterThanOrEqualTo(deep[l - 1]);
        }
        double[] p = LayerPattern.INCREMENTAL.dropouts(6, 0, null);
        assertThat(p[0]).isCloseTo(0.8, within(1e-12));
        assertThat(p[1]).isCloseTo(0.7, within(1e-12));
        assertThat(p[5]).isCloseTo(0.05, within(1e-12));
        assertThat(LayerPattern.HOURGLASS.dropouts(1, 0, null)[0]).isCloseTo(0.8, within(1e-12)); // the centre
    }

    @Test
    void randomCountsAreInOneToFourteenAveragingEightAndSeeded() {
        for (long seed = 0; seed < 50; seed++) {
            int[] c = LayerPattern.RANDOM.expertCounts(12, 8, new Random(seed));
            assertThat(Arrays.stream(c).sum()).isEqualTo(96);
            assertThat(Arrays.stream(c).min().orElseThrow()).isGreaterThanOrEqualTo(1);
            assertThat(Arrays.stream(c).max().orElseThrow()).isLessThanOrEqualTo(14);
            assertThat(LayerPattern.RANDOM.expertCounts(12, 8, new Random(seed))).containsExactly(c);
        }
        assertThat(LayerPattern.RANDOM.expertCounts(12, 8, new Random(1)))
                .isNotEqualTo(LayerPattern.RANDOM.expertCounts(12, 8, new Random(2)));
        double[] p = LayerPattern.RANDOM.dropouts(12, 0.5, new Random(3));
        assertThat(Arrays.stream(p).min().orElseThrow()).isGreaterThanOrEqualTo(0.0);
        assertThat(Arrays.stream(p).max().orElseThrow()).isLessThanOrEqualTo(0.8);
        assertThat(Arrays.stream(p).distinct().count()).isGreaterThan(2);
    }

    @Test
    void apportionIsExactAndFavoursLargestRemainders() {
        assertThat(LayerPattern.apportion(new double[] {1, 1, 1}, 10)).containsExactly(4, 3, 3);
        assertThat(LayerPattern.apportion(new double[] {1, 2, 3}, 12)).containsExactly(2, 4, 6);
        assertThat(LayerPattern.apportion(new double[] {0.2, 0.2, 0.6}, 3)).containsExactly(1, 0, 2);
    }
}
