package org.peft4j.runner.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
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
 * reference.conf} files: an unknown or mistyped key is an error naming the key, the file and line, with a
 * suggestion. Method options are checked against {@code peft4j.methods.<id>} of the chosen method.
 */
public final class ExperimentLoader {

    private static final String COMPARE = "compare.";

    private final MethodRegistry methods;

    public ExperimentLoader(MethodRegistry methods) {
        this.methods = methods;
    }

    /** Loads {@code file} with overrides {@code key=value} (HOCON values) applied on top. */
    public Experiment load(Path file, List<String> overrides) {
        return load(parseFile(file), file.toString(), overrides);
    }

    /** Parses an experiment file (HOCON), with a clear error if it is missing or malformed. */
    public static Config parseFile(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PeftException("experiment file not found: " + file);
        }
        Config user;
        try {
            user = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
        } catch (ConfigException e) {
            throw new PeftException("cannot parse " + file + ": " + e.getMessage());
        }
        return user;
    }

    /** The user's config with {@code key=value} overrides applied on top, each value's origin naming its --set. */
    public static Config withOverrides(Config user, List<String> overrides) {
        Config out = user.hasPath("peft4j") && user.root().size() == 1 ? user.getConfig("peft4j") : user;
        for (String override : overrides) {
            out = parseOverride(override).withFallback(out);
        }
        return out;
    }

    /** Loads from already-parsed HOCON (tests, programmatic use). */
    public Experiment load(Config userConfig, String source, List<String> overrides) {
        Config user = withOverrides(userConfig, overrides);
        Config reference = methods.reference().getConfig("peft4j");
        Config runnerReference = reference.withoutPath("methods");
        String methodId = user.hasPath("method.id") ? user.getString("method.id") : runnerReference.getString("method.id");
        methods.get(methodId); // unknown method -> error listing the known ones
        Config methodReference = methods.defaults(methodId);

        for (Map.Entry<String, ConfigValue> entry : user.entrySet()) {
            String key = entry.getKey();
            if (key.startsWith("method.")) {
                String option = key.substring("method.".length());
                if (!option.equals("id") && !methodReference.hasPathOrNull(option)) {
                    throw unknownKey(key, entry.getValue(), source, prefixed("method.", keys(methodReference)), "method " + methodId);
                }
            } else if (key.startsWith(COMPARE)) {
                continue; // the comparison block is checked by the matrix that reads it; `run` ignores it
            } else if (!runnerReference.hasPathOrNull(key)) {
                throw unknownKey(key, entry.getValue(), source, keys(runnerReference), null);
            }
        }
        Config resolved;
        Config methodSettings;
        try {
            resolved = user.withFallback(runnerReference).resolve();
            resolved.checkValid(runnerReference);
            Config userMethod = user.hasPath("method") ? user.getConfig("method").withoutPath("id") : ConfigFactory.empty();
            methodSettings = userMethod.withFallback(methodReference).resolve();
            methodSettings.checkValid(methodReference);
        } catch (ConfigException.ValidationFailed e) {
            throw new PeftException("invalid settings in " + source + ": " + describe(e));
        } catch (ConfigException e) {
            throw new PeftException("invalid settings in " + source + ": " + e.getMessage());
        }
        try {
            Settings.Compute.from(resolved.getConfig("compute"), source); // checked now, read by Experiment.compute()
            return new Experiment(source, resolved, methodId, methodSettings,
                    Settings.Run.from(resolved, source),
                    Settings.Backbone.from(resolved.getConfig("backbone"), source),
                    Settings.Data.from(resolved.getConfig("data"), source),
                    Settings.Train.from(resolved.getConfig("train"), source));
        } catch (ConfigException e) {
            throw new PeftException("invalid settings in " + source + ": " + e.getMessage());
        }
    }

    private static Config parseOverride(String override) {
        int eq = override.indexOf('=');
        if (eq <= 0) {
            throw new PeftException("override '" + override + "' must look like key=value, e.g. train.epochs=5");
        }
        try {
            return ConfigFactory.parseString(override, ConfigParseOptions.defaults().setOriginDescription("--set " + override));
        } catch (ConfigException e) {
            throw new PeftException("cannot parse override '" + override + "': " + e.getMessage());
        }
    }

    private static String describe(ConfigException.ValidationFailed e) {
        List<String> problems = new ArrayList<>();
        e.problems().forEach(p -> problems.add(p.path() + ": " + p.problem()));
        return String.join("; ", problems);
    }

    private static PeftException unknownKey(String key, ConfigValue value, String source, Set<String> known, String scope) {
        int line = value.origin().lineNumber();
        String where = source + (line > 0 && value.origin().description().contains(source) ? " line " + line : "");
        if (value.origin().description().startsWith("--set")) {
            where = value.origin().description();
        }
        String suggestion = closest(key, known);
        return new PeftException("unknown key '" + key + "' in " + where
                + (scope == null ? "" : " (not an option of " + scope + ")")
                + (suggestion == null ? "" : "; did you mean '" + suggestion + "'?")
                + " Known keys: " + knownNear(key, known));
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

    /** The known keys in the same section as {@code key} (or all top-level ones). */
    private static String knownNear(String key, Set<String> known) {
        int dot = key.lastIndexOf('.');
        String section = dot < 0 ? "" : key.substring(0, dot + 1);
        List<String> near = known.stream().filter(k -> k.startsWith(section) && k.indexOf('.', section.length()) < 0).toList();
        if (near.isEmpty()) {
            near = known.stream().map(k -> k.contains(".") ? k.substring(0, k.indexOf('.')) : k).distinct().toList();
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
