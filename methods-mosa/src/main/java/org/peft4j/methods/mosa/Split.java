package org.peft4j.methods.mosa;

import java.util.Locale;

/**
 * Which of an adapter's two projections (down / up; LoRA's A / B) are split into sparse experts (Table 6 of the
 * paper; the code's {@code SHARE} names the projection that stays dense).
 */
public enum Split {
    /** Dense shared down, N sparse up: the paper's hierarchical strategy (code: {@code SHARE = down}). */
    HIERARCHICAL(false, true),
    /** N sparse down, dense shared up (code: {@code SHARE = up}, its Cars script). */
    SPARSE_DOWN(true, false),
    /** Both split (code: {@code SHARE = None}; MoSL's default). */
    ALL_SPARSE(true, true),
    /** Nothing split: one dense adapter (N = 1; AdaptFormer / LoRA). */
    DENSE(false, false);

    private final boolean down;
    private final boolean up;

    Split(boolean down, boolean up) {
        this.down = down;
        this.up = up;
    }

    /** Whether the down projection (LoRA's A) is split. */
    public boolean down() {
        return down;
    }

    /** Whether the up projection (LoRA's B) is split. */
    public boolean up() {
        return up;
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses {@code hierarchical}, {@code sparse-down}, {@code all-sparse}, {@code dense}. */
    public static Split of(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
