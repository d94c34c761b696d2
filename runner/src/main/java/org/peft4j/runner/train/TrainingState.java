package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Map;

/**
 * Everything a run needs to continue after its last finished epoch: where it stands in the plan, the history
 * so far, the saved parameters and the optimiser state. Data order, augmentation, masks, routes and the engine's
 * random stream are all derived from (seed, stage, epoch, step), so they need no saving.
 *
 * @param stage index of the stage the last finished epoch belongs to
 * @param epochsDone epochs of that stage finished
 * @param history stats of every finished epoch of every stage
 * @param parameters the model's saved parameters by name ({@link PeftModel#savedParameters()})
 * @param optimizer the stage's optimiser state
 * @param lossScale fp16's dynamic loss scale and its good steps in a row (1 and 0 without scaling)
 */
public record TrainingState(int stage, int epochsDone, List<EpochStats> history, Map<String, NDArray> parameters,
        AdamW.State optimizer, double lossScale, int lossScaleGoodSteps) {}
