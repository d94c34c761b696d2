package org.peft4j.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

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

    /**
     * An error about one setting: names the key (as the user writes it) and where its value came from (the file and
     * line, or the {@code --set} argument).
     */
    public PeftException invalid(String key, String problem) {
        return new PeftException(where(key) + ": " + problem);
    }

    /** The setting as errors name it: {@code method.rank in exp.conf line 7} (or {@code in --set method.rank=0}). */
    public String where(String key) {
        String origin = settings.hasPathOrNull(key) ? ConfigOrigins.describe(settings.getValue(key).origin(), source) : source;
        return "method." + key + " in " + origin;
    }

    /** Reads a whole-number setting: {@code 1.5} is an error, never truncated to 1. */
    public int integer(String key) {
        return wholeNumber(key, settings.getValue(key).unwrapped(), "");
    }

    /** Reads a positive int setting. */
    public int positiveInt(String key) {
        int value = integer(key);
        if (value <= 0) {
            throw invalid(key, "must be > 0, got " + value);
        }
        return value;
    }

    /** Reads a list of whole numbers ({@code [2, 6.5]} is an error). */
    public List<Integer> intList(String key) {
        List<Integer> out = new ArrayList<>();
        List<?> values = settings.getList(key).unwrapped();
        for (int i = 0; i < values.size(); i++) {
            out.add(wholeNumber(key, values.get(i), " (element " + i + ")"));
        }
        return List.copyOf(out);
    }

    private int wholeNumber(String key, Object value, String which) {
        double number;
        if (value instanceof Number n) {
            number = n.doubleValue();
        } else {
            try {
                number = Double.parseDouble(String.valueOf(value).strip());
            } catch (NumberFormatException e) {
                throw invalid(key, "expected a whole number" + which + ", got '" + value + "'");
            }
        }
        if (number != Math.rint(number) || Math.abs(number) > Integer.MAX_VALUE) {
            throw invalid(key, "expected a whole number" + which + ", got " + value);
        }
        return (int) number;
    }

    /** Reads a probability in [0, max]. */
    public double probability(String key, double max) {
        double value = settings.getDouble(key);
        if (value < 0 || value > max) {
            throw invalid(key, "must be in [0, " + max + "], got " + value);
        }
        return value;
    }

    /** A string setting that must be one of {@code allowed} (compared case-insensitively, returned lowercase). */
    public String oneOf(String key, String... allowed) {
        String value = settings.getString(key).trim().toLowerCase(Locale.ROOT);
        if (!Arrays.asList(allowed).contains(value)) {
            throw invalid(key, "must be one of " + String.join(" | ", allowed) + ", got '" + settings.getString(key) + "'");
        }
        return value;
    }

    /** A boolean setting ({@code true} / {@code false}). */
    public boolean bool(String key) {
        try {
            return settings.getBoolean(key);
        } catch (ConfigException.WrongType e) {
            throw invalid(key, "must be true or false, got '" + settings.getValue(key).unwrapped() + "'");
        }
    }

    /** A finite, non-zero number (a zero scale would silently disable a method). */
    public float finiteNonZero(String key) {
        double value = settings.getDouble(key);
        if (!Double.isFinite(value) || value == 0) {
            throw invalid(key, "must be a finite non-zero number, got " + value);
        }
        return (float) value;
    }

    /** A finite number > 0 (an eps, a rate). */
    public float positiveNumber(String key) {
        double value = settings.getDouble(key);
        if (!Double.isFinite(value) || value <= 0) {
            throw invalid(key, "must be a finite number > 0, got " + value);
        }
        return (float) value;
    }

    /**
     * A number, or the word {@code word} (empty): options whose default comes from a preset ({@code dropout =
     * preset} in MLAE, {@code branches = preset} in DMLoRA), so that a number the user writes always wins.
     */
    public OptionalDouble numberOrWord(String key, String word) {
        ConfigValue value = settings.getValue(key);
        if (value.valueType() == ConfigValueType.STRING && word.equals(String.valueOf(value.unwrapped()).trim())) {
            return OptionalDouble.empty();
        }
        try {
            return OptionalDouble.of(settings.getDouble(key));
        } catch (ConfigException.WrongType | ConfigException.BadValue e) {
            throw invalid(key, "must be a number or '" + word + "', got " + value.render());
        }
    }

    /** Block indices (each >= 0); empty means every block. */
    public List<Integer> blockIndices(String key) {
        List<Integer> layers = intList(key);
        for (int layer : layers) {
            if (layer < 0) {
                throw invalid(key, "block indices must be >= 0, got " + layer);
            }
        }
        return List.copyOf(layers);
    }
}
