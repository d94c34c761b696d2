package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SplitMasksTest {

    @ParameterizedTest(name = "{0} entries into {1}")
    @CsvSource({"12, 4", "13, 4", "768, 2", "1024, 3", "5, 5", "7, 1"})
    void masksAreDisjointCoverEveryEntryAndAreBalanced(int size, int experts) {
        int[] owner = SplitMasks.owners(size, experts, new Random(7));
        int[] counts = new int[experts];
        float[] cover = new float[size];
        for (int e = 0; e < experts; e++) {
            float[] mask = SplitMasks.mask(owner, e);
            for (int i = 0; i < size; i++) {
                assertThat(mask[i]).isIn(0f, 1f);
                cover[i] += mask[i];
                counts[e] += (int) mask[i];
            }
        }
        // every entry belongs to exactly one expert: disjoint and covering
        assertThat(cover).containsOnly(1f);
        for (int e = 0; e < experts; e++) {
            assertThat(counts[e]).isBetween(size / experts, size / experts + 1);
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @CsvSource({"1", "2"})
    void theSameStreamGivesTheSameSplitAndAnotherStreamAnother(long seed) {
        int[] a = SplitMasks.owners(256, 4, new Random(seed));
        assertThat(SplitMasks.owners(256, 4, new Random(seed))).isEqualTo(a);
        assertThat(SplitMasks.owners(256, 4, new Random(seed + 100))).isNotEqualTo(a);
    }

    @ParameterizedTest(name = "{1} experts")
    @CsvSource({"4, 5", "4, 0"})
    void moreExpertsThanEntriesIsRefused(int size, int experts) {
        assertThatThrownBy(() -> SplitMasks.owners(size, experts, new Random(1)))
                .hasMessageContaining("cannot split " + size + " entries into " + experts);
    }
}
