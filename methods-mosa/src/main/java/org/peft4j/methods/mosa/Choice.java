package org.peft4j.methods.mosa;

import java.util.Locale;

/** When each adapter side's expert is drawn. */
public enum Choice {
    /** Every forward pass draws anew, so a step's two passes may use different experts (the authors' code). */
    PER_PASS,
    /** One draw per step, shared by both passes (the paper's "for each batch of data"). */
    PER_STEP;

    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    public static Choice of(String value) {
        return valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
    }
}
