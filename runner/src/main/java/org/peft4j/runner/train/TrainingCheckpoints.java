package org.peft4j.runner.train;

import ai.djl.ndarray.NDManager;
import java.util.Optional;

/** Where a run keeps the state it resumes from (one per run; the newest replaces the previous atomically). */
public interface TrainingCheckpoints {

    /** None: nothing is saved and nothing resumed. */
    TrainingCheckpoints NONE = new TrainingCheckpoints() {
        @Override
        public Optional<TrainingState> latest(NDManager manager) {
            return Optional.empty();
        }

        @Override
        public void save(TrainingState state) {}
    };

    /** The state a previous attempt saved, its arrays created in {@code manager}; empty if none. */
    Optional<TrainingState> latest(NDManager manager);

    /** Saves the state after a finished epoch. */
    void save(TrainingState state);
}
