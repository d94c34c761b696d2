package org.peft4j.api;

import java.util.ArrayList;
import java.util.List;

/**
 * The one exception family of peft4j. Its message is meant for the user: it says what is wrong, where
 * (config key and file, image path, tensor name) and, where it helps, what to do instead. The CLI prints
 * only the message unless {@code --debug} is given. Checks that look at many things at once (a config file,
 * a split list) report every problem they find in one exception: {@link #problems()}, one line each.
 */
public class PeftException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final List<String> problems;

    public PeftException(String message) {
        super(message);
        this.problems = List.of(message);
    }

    public PeftException(String message, Throwable cause) {
        super(message, cause);
        this.problems = List.of(message);
    }

    private PeftException(List<String> problems) {
        super(problems.size() + " problems:\n  " + String.join("\n  ", problems));
        this.problems = List.copyOf(problems);
    }

    /** One exception for several problems (one line each); a single problem is just its message. */
    public static PeftException of(List<String> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("no problems");
        }
        return problems.size() == 1 ? new PeftException(problems.get(0)) : new PeftException(problems);
    }

    /** Throws {@link #of} the problems, if there are any. */
    public static void throwIfAny(List<String> problems) {
        if (!problems.isEmpty()) {
            throw of(problems);
        }
    }

    /** Several exceptions as one, their problems in order. */
    public static PeftException combine(List<PeftException> exceptions) {
        List<String> all = new ArrayList<>();
        exceptions.forEach(e -> all.addAll(e.problems()));
        return of(all);
    }

    /** The problems this exception reports, one line each. */
    public List<String> problems() {
        return problems;
    }
}
