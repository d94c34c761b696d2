package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peft4j.methods.mosa.Fixtures.mosa;
import static org.peft4j.methods.mosa.Fixtures.step;

import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.peft4j.api.testing.TinyModel;

/** Masks come from the run seed, choices from the step's stream: the same seeds give the same split and draws. */
class SeedTest {

    private static final String OPTIONS = "experts = 4, bottleneck = 4, split = all-sparse, biases = split";

    private static List<int[]> owners(MixtureTuner tuner) {
        List<int[]> out = new ArrayList<>();
        for (MixtureAdapter a : tuner.adapters()) {
            for (ExpertSide side : a.sides()) {
                for (ExpertTensor t : side.tensors()) {
                    out.add(t.owners());
                }
            }
        }
        return out;
    }

    private static int[][] draws(MixtureTuner tuner, long stepSeed, NDManager m) {
        tuner.hooks().beforeForward(step(stepSeed, m));
        return tuner.router().draws();
    }

    @Test
    void theSameRunSeedGivesTheSameMasksAndTheSameStepStreamTheSameChoices() {
        try (TinyModel a = Fixtures.model(); TinyModel b = Fixtures.model(); TinyModel c = Fixtures.model();
                NDManager m = NDManager.newBaseManager()) {
            MixtureTuner first = mosa(OPTIONS, 11);
            MixtureTuner second = mosa(OPTIONS, 11);
            MixtureTuner other = mosa(OPTIONS, 12);
            first.attach(a);
            second.attach(b);
            other.attach(c);
            List<int[]> masks = owners(first);
            assertThat(masks).hasSize(4 * Fixtures.DEPTH);
            assertThat(owners(second)).containsExactlyElementsOf(masks);
            List<int[]> otherMasks = owners(other);
            assertThat(otherMasks.get(0)).isNotEqualTo(masks.get(0));
            // the blocks' masks differ from each other too
            assertThat(masks.get(4)).isNotEqualTo(masks.get(0));

            int[][] drawn = draws(first, 21, m);
            assertThat(draws(second, 21, m)).isDeepEqualTo(drawn);
            assertThat(draws(other, 21, m)).isDeepEqualTo(drawn); // choices depend on the step stream only
            boolean differs = false;
            for (long s = 22; s < 27 && !differs; s++) {
                differs = !java.util.Arrays.deepEquals(draws(first, s, m), drawn);
            }
            assertThat(differs).as("another step draws other experts").isTrue();
        }
    }
}
