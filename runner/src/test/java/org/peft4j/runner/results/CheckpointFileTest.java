package org.peft4j.runner.results;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.runner.train.AdamW;
import org.peft4j.runner.train.EpochStats;
import org.peft4j.runner.train.Evaluator;
import org.peft4j.runner.train.TrainingState;

/** A checkpoint gives back exactly what was saved: position, history, tensors, moments, step counts, loss scale. */
class CheckpointFileTest {

    @TempDir Path dir;

    @Test
    void everyPartOfTheStateRoundTrips() {
        try (NDManager m = NDManager.newBaseManager()) {
            CheckpointFile file = new CheckpointFile(dir);
            assertThat(file.latest(m)).isEmpty();
            EpochStats epoch = new EpochStats("main", 0, 1.25, 0.5, 1e-3, 2.0, 100.0,
                    new Evaluator.Result("val200", 200, 0.625, 1.5));
            TrainingState saved = new TrainingState(1, 3, List.of(epoch), Map.of("head.weight", m.create(new float[] {1, 2})),
                    new AdamW.State(Map.of("head.weight", m.create(new float[] {3, 4})),
                            Map.of("head.weight", m.create(new float[] {5, 6})), Map.of("head.weight", 17L)), 512.0, 7);
            file.save(saved);
            TrainingState back = file.latest(m).orElseThrow();
            assertThat(back.stage()).isEqualTo(1);
            assertThat(back.epochsDone()).isEqualTo(3);
            assertThat(back.history()).containsExactly(epoch);
            assertThat(back.parameters().get("head.weight").toFloatArray()).containsExactly(1, 2);
            assertThat(back.optimizer().mean().get("head.weight").toFloatArray()).containsExactly(3, 4);
            assertThat(back.optimizer().variance().get("head.weight").toFloatArray()).containsExactly(5, 6);
            assertThat(back.optimizer().steps()).containsEntry("head.weight", 17L);
            assertThat(back.lossScale()).isEqualTo(512.0);
            assertThat(back.lossScaleGoodSteps()).isEqualTo(7);
            file.delete();
            assertThat(file.latest(m)).isEmpty();
        }
    }
}
