package org.peft4j.runner.train;

import org.peft4j.api.PeftException;

/** The loss became NaN or infinite: training stops; the last good checkpoint stays on disk. */
public final class NonFiniteLossException extends PeftException {

    private static final long serialVersionUID = 1L;

    public NonFiniteLossException(String message) {
        super(message);
    }
}
