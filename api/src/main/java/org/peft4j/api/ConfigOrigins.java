package org.peft4j.api;

import com.typesafe.config.ConfigOrigin;

/** Where a setting's value came from, as users name it: a file and line, a {@code --set} argument, or the defaults. */
public final class ConfigOrigins {

    private ConfigOrigins() {}

    /**
     * {@code exp.conf line 3}, {@code --set train.epochs=2.5} (overrides are parsed with that origin description) or
     * {@code the defaults (reference.conf)}; {@code source} names values parsed from a string (tests, programmatic use).
     */
    public static String describe(ConfigOrigin origin, String source) {
        String description = origin.description();
        if (description.startsWith("--set")) {
            return description.replaceFirst(": \\d+$", ""); // Typesafe Config appends the line number
        }
        if (description.contains("reference.conf")) {
            return "the defaults (reference.conf)";
        }
        String file = origin.filename() != null ? origin.filename() : source;
        return origin.lineNumber() > 0 ? file + " line " + origin.lineNumber() : file;
    }
}
