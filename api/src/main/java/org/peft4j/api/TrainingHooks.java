package org.peft4j.api;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.Set;

/**
 * What a method needs from the training loop. All callbacks default to no-ops. Order within a run:
 *
 * <ol>
 *   <li>{@link #onStageStart} (freeze / unfreeze for the stage)
 *   <li>per epoch: {@link #onEpochStart}; the trainer then re-reads the trainable parameters, so a method may
 *       freeze or remove parameters here for good (DMLoRA's dropped branches leave the optimizer and its state)
 *   <li>per step: {@link #beforeForward} (draw masks and routes) -> {@link #loss} (forward passes) ->
 *       backward -> {@link #afterBackward} (mask gradients) -> {@link #idleParameters} -> optimizer update
 *   <li>{@link #onEpochEnd}
 * </ol>
 *
 * Evaluation runs between epochs on the merged model, outside these callbacks.
 */
public interface TrainingHooks {

    TrainingHooks NONE = new TrainingHooks() {};

    /** The model's forward pass in training mode. */
    interface Forward {
        NDArray logits(NDArray images);

        /** One pass returning the logits and the outputs of the blocks at {@code depths} from that same pass. */
        Intermediates withBlocks(NDArray images, Set<Integer> depths);
    }

    /** The task loss (cross-entropy with the run's label smoothing), averaged over the batch. */
    @FunctionalInterface
    interface TaskLoss {
        NDArray loss(NDArray logits, NDArray labels);
    }

    /** The loss to minimise and the logits used for training accuracy. */
    record StepLoss(NDArray loss, NDArray logits) {}

    default void onStageStart(TrainingStage stage, AdaptableModel model) {}

    default void onEpochStart(String stage, int epoch) {}

    default void beforeForward(StepContext step) {}

    /**
     * Computes the loss of one batch. Default: one forward pass and the task loss. MoSA overrides it to run
     * two passes and add its consistency term.
     */
    default StepLoss loss(
            StepContext step, Forward forward, NDArray images, NDArray labels, TaskLoss taskLoss) {
        NDArray logits = forward.logits(images);
        return new StepLoss(taskLoss.loss(logits, labels), logits);
    }

    /** After gradients exist, before the optimizer reads them (e.g. multiply by sparse masks in place). */
    default void afterBackward(StepContext step) {}

    /**
     * Trainable parameters that took no part in this step (an expert or branch that was not chosen). The
     * optimizer leaves them exactly as they are: no moment update, no weight decay, no step count, as PyTorch's
     * AdamW does for a parameter whose gradient is None. Asked after {@link #afterBackward}. Default: none.
     */
    default Set<Parameter> idleParameters(StepContext step) {
        return Set.of();
    }

    default void onEpochEnd(String stage, int epoch) {}
}
