package org.peft4j.runner.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigOrigin;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.peft4j.api.ConfigOrigins;
import org.peft4j.api.PeftException;

/**
 * The problems found in an experiment's settings, each naming its key and where the value came from: the file and
 * line, the {@code --set} argument, or the default. Everything is checked before any is reported.
 */
public final class Problems {

    private final List<String> list = new ArrayList<>();
    /** Keys whose value is unusable (wrong type or range): checks that read them are skipped. */
    private final Set<String> badKeys = new TreeSet<>();
    private final String source;
    private Config values;

    Problems(String source) {
        this.source = source;
    }

    /** The resolved settings whose values' origins {@link #add(String, String)} names. */
    void describing(Config resolved) {
        this.values = resolved;
    }

    /** A problem with the value of {@code key}: "key in file line 3: message". */
    public void add(String key, String message) {
        addFor(key, key + " in " + where(key) + ": " + message);
    }

    /** A problem with the value of {@code key}, stated in full. */
    void addFor(String key, String message) {
        badKeys.add(key);
        list.add(message);
    }

    /** A problem that leaves every value usable (an unknown key, an override that does not parse). */
    void addRaw(String message) {
        list.add(message);
    }

    /** Whether {@code key}, or a key inside the block {@code key}, has an unusable value. */
    boolean affects(String key) {
        return badKeys.stream().anyMatch(k -> k.equals(key) || k.startsWith(key + "."));
    }

    Set<String> badKeys() {
        return Set.copyOf(badKeys);
    }

    List<String> list() {
        return List.copyOf(list);
    }

    /** Where the value of {@code key} came from. */
    String where(String key) {
        if (values == null || !values.hasPathOrNull(key)) {
            return source;
        }
        return describe(values.getValue(key).origin(), source);
    }

    /** An origin as users name it: {@code exp.conf line 3}, {@code --set train.epochs=2.5}, or {@code the defaults}. */
    static String describe(ConfigOrigin origin, String source) {
        return ConfigOrigins.describe(origin, source);
    }

    boolean isEmpty() {
        return list.isEmpty();
    }

    /** Throws every problem found, one line each; nothing if there are none. */
    void throwIfAny() {
        PeftException.throwIfAny(list);
    }
}
