package org.peft4j.methods.dmlora;

import java.util.Locale;
import org.peft4j.methods.dmlora.HalvingScheduler.Reduction;

/**
 * The five schemes of the paper's ablation (Table 3): whether branches are reduced, how, and whether one factor
 * is a single shared branch. E is DMLoRA.
 */
public enum Scheme {
    /** Multiple branches kept for the whole run (AdaMix-like): 74.5 on VTAB-1k (Table 4). */
    A(Reduction.NONE, false, false),
    /** Halving by averaging pairs of branches: 74.8. */
    B(Reduction.AVERAGE, false, false),
    /** Random halving of the down branches, one shared up branch: 75.2. */
    C(Reduction.DROP, true, false),
    /** Random halving of the up branches, one shared down branch: 75.5. */
    D(Reduction.DROP, false, true),
    /** DMLoRA: random halving of the down and the up branches, independently: 76.6. */
    E(Reduction.DROP, false, false);

    private final Reduction reduction;
    private final boolean sharedUp;
    private final boolean sharedDown;

    Scheme(Reduction reduction, boolean sharedUp, boolean sharedDown) {
        this.reduction = reduction;
        this.sharedUp = sharedUp;
        this.sharedDown = sharedDown;
    }

    /** {@code a} .. {@code e}, case-insensitive; null if none. */
    public static Scheme parse(String value) {
        String v = value.trim().toUpperCase(Locale.ROOT);
        for (Scheme s : values()) {
            if (s.name().equals(v)) {
                return s;
            }
        }
        return null;
    }

    public Reduction reduction() {
        return reduction;
    }

    /** The schedule of the down branches A_i. */
    public HalvingScheduler down(int branches, int every, int floor, boolean roundUp) {
        return sharedDown ? HalvingScheduler.single() : new HalvingScheduler(branches, every, floor, roundUp, reduction);
    }

    /** The schedule of the up branches B_j. */
    public HalvingScheduler up(int branches, int every, int floor, boolean roundUp) {
        return sharedUp ? HalvingScheduler.single() : new HalvingScheduler(branches, every, floor, roundUp, reduction);
    }
}
