package org.peft4j.api;

import com.typesafe.config.Config;

/**
 * What a method gets to create its {@link Tuner}: its settings (the user's {@code method} block merged over
 * the method's {@code reference.conf}, already checked for unknown keys), the run seed and the task.
 *
 * @param settings the method's options, keys as in its reference.conf (e.g. {@code rank})
 * @param source where the user's settings came from, for error messages (file name)
 * @param seed the run seed; methods derive their random streams from it
 * @param dataset the dataset name (MLAE's per-dataset presets key on it)
 * @param numClasses number of classes of the task
 */
public record MethodContext(Config settings, String source, long seed, String dataset, int numClasses) {

    /** An error about one setting: names the key (as the user writes it) and the file. */
    public PeftException invalid(String key, String problem) {
        return new PeftException("method." + key + " in " + source + ": " + problem);
    }

    /** Reads a positive int setting. */
    public int positiveInt(String key) {
        int value = settings.getInt(key);
        if (value <= 0) {
            throw invalid(key, "must be > 0, got " + value);
        }
        return value;
    }

    /** Reads a probability in [0, max]. */
    public double probability(String key, double max) {
        double value = settings.getDouble(key);
        if (value < 0 || value > max) {
            throw invalid(key, "must be in [0, " + max + "], got " + value);
        }
        return value;
    }
}
