package org.peft4j.runner.cli;

import java.util.Locale;
import org.peft4j.api.PeftException;

/** Turns whatever stopped a command into the message the user sees: what went wrong and which setting to change. */
final class Failures {

    private Failures() {}

    /** The user-facing message of a failure. */
    static String message(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof OutOfMemoryError) {
                return heap();
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PeftException) {
                return t.getMessage();
            }
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage()).toLowerCase(Locale.ROOT);
            if (m.contains("not enough memory") || m.contains("out of memory") || m.contains("failed to allocate")) {
                return "out of native memory: the engine could not allocate a tensor (" + firstLine(t.getMessage())
                        + "); lower data.batch-size or data.eval-batch-size (or backbone.image-size)";
            }
        }
        return e.getClass().getSimpleName() + ": " + firstLine(e.getMessage());
    }

    /** Whether the failure is one peft4j explains itself (no hint about --debug needed). */
    static boolean explained(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PeftException || t instanceof OutOfMemoryError) {
                return true;
            }
        }
        return false;
    }

    private static String heap() {
        long heapMb = Runtime.getRuntime().maxMemory() >> 20;
        return "out of memory: the Java heap (" + heapMb + " MB) is full; lower data.cache-mb (decoded images kept in the heap,"
                + " auto = half of what it has beyond 64 MB) or data.batch-size / data.eval-batch-size, or give java a larger heap"
                + " (java -Xmx" + Math.max(2, 4 * heapMb >> 10) + "g -jar peft4j.jar ...)";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "no message";
        }
        int newline = message.indexOf('\n');
        return (newline < 0 ? message : message.substring(0, newline)).strip();
    }
}
