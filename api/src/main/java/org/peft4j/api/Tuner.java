package org.peft4j.api;

import java.util.List;
import java.util.Map;

/**
 * A method's state for one run: it adapts the model, supplies training hooks and may extend the plan.
 * Created by {@link PeftMethod#create}; the runner calls {@link #attach} once, then trains.
 */
public interface Tuner {

    /**
     * Attaches adapters to the selected sites and unfreezes the backbone parameters the method trains (the
     * runner has frozen all of them and left the head trainable). Select and check everything first, so a
     * failure never leaves a half-adapted model.
     */
    void attach(AdaptableModel model);

    /** Callbacks the training loop calls; default: none. */
    default TrainingHooks hooks() {
        return TrainingHooks.NONE;
    }

    /** The stages to train; default: the runner's single stage unchanged. */
    default TrainingPlan plan(TrainingPlan base) {
        return base;
    }

    /**
     * Trainable parameters to report in the papers' "# param" column (backbone, head excluded). {@code
     * counted} is what requires gradient; a method whose masks keep some of those from ever training (MLAE's
     * fixed masks) reports the smaller number.
     */
    default long reportedParameterCount(long counted) {
        return counted;
    }

    /**
     * Lines the runner prints (and writes to {@code train.log} and {@code metrics.json}) when a run starts, after
     * {@link #attach} and {@link #plan}: choices the method made from the run rather than from explicit settings,
     * e.g. a preset picked from the dataset name or the default targets for this backbone. Default: none.
     */
    default List<String> notes() {
        return List.of();
    }

    /** Extra results for {@code metrics.json} after training (e.g. expert similarity). */
    default Map<String, Object> analysis(AdaptableModel model) {
        return Map.of();
    }
}
