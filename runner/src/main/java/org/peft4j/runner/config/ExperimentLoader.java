package org.peft4j.runner.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.peft4j.api.PeftException;
import org.peft4j.runner.registry.MethodRegistry;

/**
 * Reads an experiment file (HOCON) plus command-line overrides, and validates it against the merged {@code
 * reference.conf} files: unknown keys (with a suggestion), values of the wrong type (a whole number where the default
 * is one), then the ranges of the runner's settings. Method options are checked against {@code peft4j.methods.<id>}
 * of the chosen method. Every problem is reported at once, each naming its key and where its value came from (file
 * and line, or the {@code --set} argument).
 */
public final class ExperimentLoader {

    private static final String COMPARE = "compare.";

    private final MethodRegistry methods;

    public ExperimentLoader(MethodRegistry methods) {
        this.methods = methods;
    }

    /**
     * An experiment read leniently: every problem found, and the experiment with fallback values where a value was
     * unusable (null when the settings could not be read at all, e.g. a block replaced by a number). The checks that
     * need no tensor but a sound value ({@code Preflight}) ask {@link #affects} before using one.
     */
    public record Validation(Experiment experiment, List<String> problems, Set<String> badKeys) {

        /** Whether {@code key}, or a key inside block {@code key}, has an unusable value. */
        public boolean affects(String key) {
            return badKeys.stream().anyMatch(k -> k.equals(key) || k.startsWith(key + "."));
        }
    }

    /** The method registry it validates against. */
    public MethodRegistry methods() {
        return methods;
    }

    /** Loads {@code file} with overrides {@code key=value} (HOCON values) applied on top; every problem is thrown at once. */
    public Experiment load(Path file, List<String> overrides) {
        return orThrow(validate(file, overrides));
    }

    /** Loads from already-parsed HOCON (tests, programmatic use). */
    public Experiment load(Config userConfig, String source, List<String> overrides) {
        return orThrow(validate(userConfig, source, overrides));
    }

    private static Experiment orThrow(Validation v) {
        PeftException.throwIfAny(v.problems());
        return v.experiment();
    }

    /** Reads {@code file} and the overrides and reports every problem instead of throwing (a missing or unparsable file throws). */
    public Validation validate(Path file, List<String> overrides) {
        return validate(parseFile(file), file.toString(), overrides);
    }

    /** Parses an experiment file (HOCON), with a clear error if it is missing or malformed. */
    public static Config parseFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PeftException("experiment file not found: " + file);
        }
        try {
            return ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException e) {
            throw new PeftException("cannot parse " + file + ": " + e.getMessage());
        }
    }

    /**
     * The user's config with {@code key=value} overrides applied on top, each value's origin naming its --set; an
     * override that does not parse is an error.
     */
    public static Config withOverrides(Config user, List<String> overrides) {
        List<String> problems = new ArrayList<>();
        Config out = withOverrides(user, overrides, problems);
        PeftException.throwIfAny(problems);
        return out;
    }

    private static Config withOverrides(Config user, List<String> overrides, List<String> problems) {
        Config out = user.hasPath("peft4j") && user.root().size() == 1 ? user.getConfig("peft4j") : user;
        for (String override : overrides) {
            try {
                out = parseOverride(override).withFallback(out);
            } catch (PeftException e) {
                problems.add(e.getMessage());
            }
        }
        return out;
    }

    /** {@link #validate(Path, List)} of already-parsed HOCON. */
    public Validation validate(Config userConfig, String source, List<String> overrides) {
        Problems problems = new Problems(source);
        List<String> overrideProblems = new ArrayList<>();
        Config user = withOverrides(userConfig, overrides, overrideProblems);
        overrideProblems.forEach(problems::addRaw);
        Config runnerReference = methods.reference().getConfig("peft4j").withoutPath("methods");
        MethodChoice method = chooseMethod(user, runnerReference, source, problems);
        for (Map.Entry<String, ConfigValue> entry : user.entrySet()) {
            String key = entry.getKey();
            ConfigValue value = entry.getValue();
            if (key.equals("method.id")) {
                continue;
            }
            if (key.startsWith("method.")) {
                if (method.defaults() != null) {
                    checkOption(key, value, method, source, problems);
                }
            } else if (key.startsWith(COMPARE)) {
                continue; // the comparison block is checked by the matrix that reads it; `run` ignores it
            } else if (!has(runnerReference, key)) {
                problems.addRaw(unknownKey(key, value, source, runnerReference, method));
            } else {
                typeProblem(key, value, runnerReference.getValue(key), source, problems);
            }
        }
        if (blockReplaced(user, runnerReference)) {
            return new Validation(null, problems.list(), problems.badKeys()); // reported above; nothing can be read
        }
        Config resolved;
        try {
            resolved = user.withFallback(runnerReference).resolve();
        } catch (ConfigException e) {
            problems.addRaw("cannot resolve the settings of " + source + ": " + e.getMessage());
            return new Validation(null, problems.list(), problems.badKeys());
        }
        problems.describing(resolved);
        Settings.Run run = Settings.Run.from(resolved, problems);
        Settings.Backbone backbone = Settings.Backbone.from(resolved.getConfig("backbone"), problems);
        Settings.Data data = Settings.Data.from(resolved, problems);
        Settings.Train train = Settings.Train.from(resolved, problems);
        Settings.Compute.from(resolved, problems); // checked now, read by Experiment.compute()
        Config methodSettings = ConfigFactory.empty();
        if (method.defaults() != null) {
            Config userMethod = user.hasPath("method") && user.getValue("method").valueType() == ConfigValueType.OBJECT
                    ? user.getConfig("method").withoutPath("id") : ConfigFactory.empty();
            methodSettings = userMethod.withFallback(method.defaults()).resolve();
        }
        return new Validation(new Experiment(source, resolved, method.id(), methodSettings, run, backbone, data, train),
                problems.list(), problems.badKeys());
    }

    /** Whether the user set a block of the reference ({@code data}, {@code train}) to a plain value. */
    private static boolean blockReplaced(Config user, Config reference) {
        return reference.root().keySet().stream().anyMatch(block -> reference.getValue(block).valueType() == ConfigValueType.OBJECT
                && user.hasPath(block) && user.getValue(block).valueType() != ConfigValueType.OBJECT);
    }

    /** The chosen method, its defaults (null if unknown) and where its id came from. */
    private record MethodChoice(String id, Config defaults, String origin) {}

    private MethodChoice chooseMethod(Config user, Config runnerReference, String source, Problems problems) {
        if (!user.hasPath("method.id")) {
            String id = runnerReference.getString("method.id");
            return new MethodChoice(id, methods.defaults(id), "the default");
        }
        ConfigValue value = user.getValue("method.id");
        String origin = Problems.describe(value.origin(), source);
        if (value.valueType() != ConfigValueType.STRING) {
            problems.addFor("method.id", "method.id in " + origin + ": expected a method id, one of " + methods.ids());
            return new MethodChoice(String.valueOf(value.unwrapped()), null, origin);
        }
        String id = (String) value.unwrapped();
        if (!methods.ids().contains(id)) {
            String suggestion = closest(id, new TreeSet<>(methods.ids()));
            problems.addFor("method.id", "unknown method '" + id + "' (method.id in " + origin + ")"
                    + (suggestion == null ? "" : "; did you mean '" + suggestion + "'?") + " Expected one of " + methods.ids());
            return new MethodChoice(id, null, origin);
        }
        return new MethodChoice(id, methods.defaults(id), origin);
    }

    private void checkOption(String key, ConfigValue value, MethodChoice method, String source, Problems problems) {
        String option = key.substring("method.".length());
        if (has(method.defaults(), option)) {
            typeProblem(key, value, method.defaults().getValue(option), source, problems);
            return;
        }
        String where = Problems.describe(value.origin(), source);
        Set<String> known = prefixed("method.", keys(method.defaults()));
        String suggestion = closest(key, known);
        List<String> others = methods.ids().stream().filter(id -> has(methods.defaults(id), option)).toList();
        String chosen = "method.id = " + method.id() + (method.origin().equals("the default") ? " by default"
                : method.origin().startsWith("--set") ? " from " + method.origin() : " in " + method.origin());
        problems.addRaw("unknown key '" + key + "' in " + where + ": not an option of method " + method.id() + " (" + chosen + ")"
                + (suggestion == null ? "" : "; did you mean '" + suggestion + "'?")
                + (others.isEmpty() ? "" : "; " + option + " is an option of " + String.join(", ", others))
                + (known.isEmpty() ? "; method " + method.id() + " has no options" : ". Known keys: " + knownNear(key, known)));
    }

    private static void typeProblem(String key, ConfigValue value, ConfigValue reference, String source, Problems problems) {
        String problem = OptionTypes.problem(value, reference);
        if (problem != null) {
            problems.addFor(key, key + " in " + Problems.describe(value.origin(), source) + ": " + problem);
        }
    }

    private static boolean has(Config config, String path) {
        try {
            return config.hasPathOrNull(path);
        } catch (ConfigException e) {
            return false; // a part of the path is a value, not a block
        }
    }

    private static Config parseOverride(String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new PeftException("--set " + override + ": must look like key=value, e.g. --set train.epochs=5");
        }
        try {
            return ConfigFactory.parseString(override, ConfigParseOptions.defaults().setOriginDescription("--set " + override));
        } catch (ConfigException e) {
            String where = e.origin() == null ? "" : e.origin().description() + ": ";
            String message = e.getMessage().startsWith(where) ? e.getMessage().substring(where.length()) : e.getMessage();
            throw new PeftException("--set " + override + ": cannot parse the value: " + message);
        }
    }

    private String unknownKey(String key, ConfigValue value, String source, Config reference, MethodChoice method) {
        Set<String> known = keys(reference);
        String suggestion = closest(key, known);
        if (suggestion == null) {
            suggestion = sameLastPart(key, known);
        }
        String last = key.substring(key.lastIndexOf('.') + 1);
        if (suggestion == null && method.defaults() != null && has(method.defaults(), last)) {
            suggestion = "method." + last;
        }
        return "unknown key '" + key + "' in " + Problems.describe(value.origin(), source)
                + (suggestion == null ? "" : "; did you mean '" + suggestion + "'?") + " Known keys: " + knownNear(key, known);
    }

    /** A known key ending in the same part (a key put in the wrong block: {@code epochs} for {@code train.epochs}). */
    private static String sameLastPart(String key, Set<String> known) {
        String last = key.substring(key.lastIndexOf('.') + 1);
        List<String> matches = known.stream().filter(k -> k.equals(last) || k.endsWith("." + last)).toList();
        return matches.size() == 1 ? matches.get(0) : null;
    }

    private static Set<String> keys(Config reference) {
        Set<String> keys = new TreeSet<>();
        reference.entrySet().forEach(e -> keys.add(e.getKey()));
        return keys;
    }

    private static Set<String> prefixed(String prefix, Set<String> keys) {
        Set<String> out = new TreeSet<>();
        keys.forEach(k -> out.add(prefix + k));
        return out;
    }

    /** What the section of {@code key} holds: its keys and blocks ({@code train.*}, or the top level). */
    private static String knownNear(String key, Set<String> known) {
        int dot = key.lastIndexOf('.');
        String section = dot < 0 ? "" : key.substring(0, dot + 1);
        Set<String> near = new TreeSet<>();
        for (String k : known) {
            if (k.startsWith(section)) {
                int end = k.indexOf('.', section.length());
                near.add(end < 0 ? k : k.substring(0, end));
            }
        }
        if (near.isEmpty()) {
            known.forEach(k -> near.add(k.contains(".") ? k.substring(0, k.indexOf('.')) : k));
        }
        return String.join(", ", near);
    }

    /** The known key with the smallest edit distance, if it is close enough to be a typo. */
    public static String closest(String key, Set<String> known) {
        return known.stream()
                .min(Comparator.comparingInt(k -> distance(key, k)))
                .filter(k -> distance(key, k) <= Math.max(2, key.length() / 4))
                .orElse(null);
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
