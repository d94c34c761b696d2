package org.peft4j.runner.train;

/** Progress callbacks of the trainer (progress bar, log file). All default to no-ops. */
public interface StepObserver {

    default void epochStarted(String stage, int epoch, int epochs, int steps) {}

    default void stepDone(double loss, double accuracy, double imagesPerSecond) {}

    default void epochDone(EpochStats stats) {}

    /** Evaluation progress: {@code done} of {@code total} images of {@code split} scored (0 when it starts). */
    default void evaluating(String split, int done, int total) {}
}
