package org.peft4j.runner.cli;

import org.peft4j.api.PeftException;

/** Range checks of numeric command-line options, before anything is built. */
final class Args {

    private Args() {}

    /** {@code value} must be at least {@code min}. */
    static void atLeast(String option, int value, int min) {
        if (value < min) {
            throw new PeftException(option + " " + value + ": must be >= " + min);
        }
    }
}
