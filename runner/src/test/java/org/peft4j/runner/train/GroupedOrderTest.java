package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class GroupedOrderTest {

    @Test
    void groupsStayTogetherInTheirOrderAndEveryItemAppearsOnce() {
        int[] order = Trainer.shuffledGroups(40, 4, new Random(3));
        assertThat(Arrays.stream(order).sorted().toArray()).containsExactly(IntStream.range(0, 40).toArray());
        for (int g = 0; g < 10; g++) {
            int first = order[4 * g];
            assertThat(first % 4).isZero();
            assertThat(Arrays.copyOfRange(order, 4 * g, 4 * g + 4)).containsExactly(first, first + 1, first + 2, first + 3);
        }
        assertThat(order).as("groups are shuffled").isNotEqualTo(IntStream.range(0, 40).toArray());
    }

    @Test
    void groupsOfOneAreThePlainShuffleOfEarlierRuns() {
        assertThat(Trainer.shuffledGroups(50, 1, new Random(9))).containsExactly(Trainer.shuffled(50, new Random(9)));
    }
}
