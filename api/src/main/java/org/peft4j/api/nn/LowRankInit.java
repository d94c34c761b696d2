package org.peft4j.api.nn;

import ai.djl.training.initializer.Initializer;
import org.peft4j.api.MethodContext;

/**
 * How the down factor A of a low-rank update (LoRA's A, MLAE's a_i) starts; the up factor starts at zero.
 * A config option of every method of the family, so they read and apply it the same way.
 */
public enum LowRankInit {
    /** Kaiming-uniform with a = sqrt 5: HF peft's LoRA and the MLAE authors' code. */
    KAIMING,
    /** N(0, (1/rank)^2): the MLAE paper's wording, HF peft's "gaussian". */
    GAUSSIAN;

    /** Reads {@code key} ({@code kaiming} or {@code gaussian}); a bad value names the key. */
    public static LowRankInit from(MethodContext context, String key) {
        return valueOf(context.oneOf(key, "kaiming", "gaussian").toUpperCase(java.util.Locale.ROOT));
    }

    /** The initialiser of A for an update of this rank. */
    public Initializer initializer(int rank) {
        return this == GAUSSIAN ? Initializers.normal(1.0 / rank) : Initializers.kaimingUniformSqrt5();
    }
}
