package org.peft4j.api;

/**
 * One stage of training with its own schedule: AdamW at {@code lr}, linear warmup for {@code
 * warmupEpochs}, then cosine decay to zero, stepped per batch.
 *
 * @param name e.g. {@code main}, {@code scales} (DMLoRA's second stage)
 * @param epochs number of epochs
 * @param lr peak learning rate
 * @param weightDecay decoupled weight decay (never applied to biases, norms and scales)
 * @param warmupEpochs epochs of linear warmup
 */
public record TrainingStage(String name, int epochs, double lr, double weightDecay, double warmupEpochs) {

    public TrainingStage {
        if (epochs < 0 || lr < 0 || weightDecay < 0 || warmupEpochs < 0) {
            throw new IllegalArgumentException("bad training stage " + name);
        }
    }
}
