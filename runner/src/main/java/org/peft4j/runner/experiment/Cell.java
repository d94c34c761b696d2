package org.peft4j.runner.experiment;

import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import org.peft4j.api.PeftException;

/**
 * One run of a comparison: an experiment, a dataset, a method (its label: one method can appear with several
 * settings), a sweep point, a protocol ({@code tune}: train800 -> val200, {@code final}: train800val200 -> test)
 * and a seed. Each cell has a folder of its own, {@code <output>/<experiment>/<dataset>/<method>/<point>/<protocol>/seed-<n>},
 * so no cell ever writes over another.
 */
public record Cell(String experiment, String dataset, String method, String point, String protocol, long seed) {

    /** The point name of a run without a sweep. */
    public static final String DEFAULT_POINT = "default";

    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._=,+@-]+");

    public Cell {
        requireSafe("experiment", experiment);
        requireSafe("dataset", dataset);
        requireSafe("method", method);
        requireSafe("sweep point", point);
        if (!protocol.equals("tune") && !protocol.equals("final")) {
            throw new IllegalArgumentException("protocol must be tune or final, got " + protocol);
        }
    }

    public Path folder(Path output) {
        return output.resolve(experiment).resolve(dataset).resolve(method).resolve(point).resolve(protocol)
                .resolve("seed-" + seed);
    }

    /** A short name for logs: {@code dataset/method/point/protocol/seed-n}. */
    public String label() {
        return String.join("/", dataset, method, point, protocol, "seed-" + seed);
    }

    /** A name usable as one folder: characters outside {@code [A-Za-z0-9._=,+@-]} become {@code _}. */
    public static String folderName(String raw) {
        String name = raw.trim().replaceAll("[^A-Za-z0-9._=,+@-]+", "_");
        return name.isEmpty() || name.equals(".") || name.equals("..") ? "_" : name;
    }

    private static void requireSafe(String what, String value) {
        if (value == null || !SAFE.matcher(value).matches() || value.equals(".") || value.equals("..")) {
            throw new PeftException(String.format(Locale.ROOT,
                    "%s name '%s' cannot be a results folder: use letters, digits and . _ = , + @ -", what, value));
        }
    }
}
