package org.peft4j.api;

/**
 * The one exception family of peft4j. Its message is meant for the user: it says what is wrong, where
 * (config key and file, image path, tensor name) and, where it helps, what to do instead. The CLI prints
 * only the message unless {@code --debug} is given.
 */
public class PeftException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public PeftException(String message) {
        super(message);
    }

    public PeftException(String message, Throwable cause) {
        super(message, cause);
    }
}
