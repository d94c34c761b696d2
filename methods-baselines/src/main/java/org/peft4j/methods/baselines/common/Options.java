package org.peft4j.methods.baselines.common;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.peft4j.api.MethodContext;

/**
 * Setting readers the baseline methods share beyond {@link MethodContext#positiveInt} and {@link
 * MethodContext#probability}. Every error names the key ({@code method.<key>}) through {@link
 * MethodContext#invalid}.
 */
public final class Options {

    private Options() {}

    /** A string setting that must be one of {@code allowed} (compared case-insensitively, returned lowercase). */
    public static String oneOf(MethodContext ctx, String key, String... allowed) {
        String value = ctx.settings().getString(key).trim().toLowerCase(Locale.ROOT);
        if (!Arrays.asList(allowed).contains(value)) {
            throw ctx.invalid(key, "must be one of " + String.join(" | ", allowed) + ", got '"
                    + ctx.settings().getString(key) + "'");
        }
        return value;
    }

    /** A boolean setting ({@code true} / {@code false}). */
    public static boolean bool(MethodContext ctx, String key) {
        try {
            return ctx.settings().getBoolean(key);
        } catch (com.typesafe.config.ConfigException.WrongType e) {
            throw ctx.invalid(key, "must be true or false, got '" + ctx.settings().getValue(key).unwrapped() + "'");
        }
    }

    /** A finite, non-zero number (a zero scale would silently disable the method). */
    public static float finiteNonZero(MethodContext ctx, String key) {
        double value = ctx.settings().getDouble(key);
        if (!Double.isFinite(value) || value == 0) {
            throw ctx.invalid(key, "must be a finite non-zero number, got " + value);
        }
        return (float) value;
    }

    /** Block indices (each >= 0); empty means every block. */
    public static List<Integer> layers(MethodContext ctx, String key) {
        List<Integer> layers = ctx.settings().getIntList(key);
        for (int layer : layers) {
            if (layer < 0) {
                throw ctx.invalid(key, "block indices must be >= 0, got " + layer);
            }
        }
        return List.copyOf(layers);
    }
}
