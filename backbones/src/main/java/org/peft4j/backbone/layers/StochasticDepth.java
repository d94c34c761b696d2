package org.peft4j.backbone.layers;

/**
 * The switch every drop path of one backbone reads: during training it is active unless a method asked for the
 * frozen backbone to run in eval mode ({@link org.peft4j.api.AdaptableModel#setFrozenBackboneEval}), as VPT's and
 * NOAH's code do. Adapters never read it: they keep the training flag they are given.
 */
public final class StochasticDepth {

    private boolean frozenEval;

    public void setFrozenEval(boolean frozenEval) {
        this.frozenEval = frozenEval;
    }

    /** Whether drop path acts in a forward pass with this training flag. */
    public boolean active(boolean training) {
        return training && !frozenEval;
    }
}
