package org.peft4j.methods.mosa;

import java.util.Locale;

/** How the experts become one adapter for inference (before every evaluation; training resumes from the experts). */
public enum Merge {
    /**
     * The mean of the experts' tensors (the authors' code, {@code merge = 'add'}): for a split projection drawn
     * uniformly and used linearly (the up projection of the hierarchical strategy, LoRA's A and B drawn
     * independently) the merged adapter computes exactly the expected training output.
     */
    EXPECTATION,
    /** Each expert's own entries copied into one tensor (the paper's Eq. 7), no averaging. */
    JIGSAW;

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
