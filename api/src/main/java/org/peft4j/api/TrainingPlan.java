package org.peft4j.api;

import java.util.ArrayList;
import java.util.List;

/** The stages of one run in order. The runner builds a one-stage plan from config; methods may add stages. */
public record TrainingPlan(List<TrainingStage> stages) {

    public TrainingPlan {
        stages = List.copyOf(stages);
        if (stages.isEmpty()) {
            throw new IllegalArgumentException("a training plan needs at least one stage");
        }
    }

    public static TrainingPlan of(TrainingStage stage) {
        return new TrainingPlan(List.of(stage));
    }

    /** This plan with one more stage at the end. */
    public TrainingPlan then(TrainingStage stage) {
        List<TrainingStage> more = new ArrayList<>(stages);
        more.add(stage);
        return new TrainingPlan(more);
    }

    public int totalEpochs() {
        return stages.stream().mapToInt(TrainingStage::epochs).sum();
    }
}
