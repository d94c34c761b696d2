package org.peft4j.methods.mlae;

import java.util.Locale;

/** The masking families of MLAE (Section 3.3, Fig. 2). */
public enum Masking {
    /** No mask: every expert trains every step (the "decomposition only" ablation rows of Table 5). */
    NONE(false, false),
    /** Expert-level inverted dropout on the coefficients, one mask per step; all experts at inference. */
    STOCHASTIC(true, false),
    /** Per-block expert counts; masked experts never train and are not used at inference. */
    FIXED(false, true),
    /** Fixed counts, plus stochastic masking on the experts that remain. */
    MIXED(true, true);

    private final boolean stochastic;
    private final boolean fixed;

    Masking(boolean stochastic, boolean fixed) {
        this.stochastic = stochastic;
        this.fixed = fixed;
    }

    /** Whether experts are dropped at random during training. */
    public boolean stochastic() {
        return stochastic;
    }

    /** Whether some experts are masked for good. */
    public boolean fixed() {
        return fixed;
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Masking parse(String name) {
        for (Masking m : values()) {
            if (m.configName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        return null;
    }
}
