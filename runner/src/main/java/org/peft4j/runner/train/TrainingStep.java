package org.peft4j.runner.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import java.util.function.Function;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;

/**
 * One optimisation step of a {@link PeftModel}: hooks before the forward pass, the (method's) loss, backward,
 * gradient hooks, AdamW. Shared by the trainer and the benchmark, so both measure the same work.
 */
public final class TrainingStep {

    /**
     * What a step returns.
     *
     * @param waitNanos how long the step waited for the device in its one read (the rest of its time the host was
     *     queueing work: on a GPU, time in which the device may have been waiting instead)
     */
    public record Outcome(float loss, long correct, long waitNanos) {}

    private final PeftModel model;
    private final TrainingHooks hooks;
    private final AdamW optimizer;
    private final double labelSmoothing;
    private final LossScaler scaler;

    public TrainingStep(PeftModel model, AdamW optimizer, double labelSmoothing) {
        this.model = model;
        this.hooks = model.hooks();
        this.optimizer = optimizer;
        this.labelSmoothing = labelSmoothing;
        this.scaler = LossScaler.forPrecision(model.precision());
    }

    /** The loss scaler of this step (dynamic under fp16). */
    public LossScaler scaler() {
        return scaler;
    }

    /**
     * Opens the step's scope: a child of the model's manager that borrows every parameter and the optimiser
     * state, so all a step creates dies with it.
     */
    public NDManager openScope() {
        return model.openScope(optimizer.state());
    }

    /**
     * Runs the step on a batch created in {@code context.manager()} (from {@link #openScope()}).
     *
     * @param describe names the step in the error raised on a non-finite loss
     */
    public Outcome run(StepContext context, NDArray images, NDArray labels, double lr, Function<Float, String> describe) {
        hooks.beforeForward(context);
        TrainingHooks.StepLoss stepLoss;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector();
                WeightCasts.Active casts = model.castTrainable(context.manager())) {
            stepLoss = hooks.loss(context, model.trainingForward(), images, labels,
                    (logits, y) -> Losses.crossEntropy(logits, y, labelSmoothing));
            collector.backward(scaler.scaled(stepLoss.loss()));
        }
        hooks.afterBackward(context);
        AdamW.Gradients gradients = optimizer.gradients(hooks.idleParameters(context), scaler);
        NDArray correct = stepLoss.logits().argMax(-1).eq(labels).toType(DataType.INT64, false).sum();
        // the step's one wait for the device, with everything read queued before it: a read between backward and
        // the update (the loss, the gradient norm, the count) leaves a GPU idle while the host queues what follows
        long readStart = System.nanoTime();
        float loss = stepLoss.loss().getFloat();
        long waitNanos = System.nanoTime() - readStart;
        if (!Float.isFinite(loss)) {
            throw new NonFiniteLossException(describe.apply(loss));
        }
        long correctCount = correct.getLong();
        optimizer.step(lr, gradients, scaler);
        return new Outcome(loss, correctCount, waitNanos);
    }
}
