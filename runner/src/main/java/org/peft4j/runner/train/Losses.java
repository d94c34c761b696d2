package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import org.peft4j.api.nn.Ops;

/** The task loss. */
public final class Losses {

    private Losses() {}

    /** Mean cross-entropy of {@code logits [B, C]} against int labels {@code [B]} with label smoothing. */
    public static NDArray crossEntropy(NDArray logits, NDArray labels, double smoothing) {
        int classes = (int) logits.getShape().getLastDimension();
        NDArray logProbs = logits.logSoftmax(-1);
        NDArray target = labels.oneHot(classes);
        if (smoothing > 0) {
            target = Ops.plus(Ops.scale(target, 1 - smoothing), smoothing / classes);
        }
        return logProbs.mul(target).sum(new int[] {-1}).mean().neg();
    }
}
