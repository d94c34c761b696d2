package org.peft4j.runner.experiment;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import org.peft4j.runner.config.Experiment;

/**
 * A cell with everything needed to run it: its identity, its validated experiment (the seed and the protocol set
 * to the cell's) and the sweep point's values.
 *
 * @param sweep the values the sweep point sets, by key ({@code train.lr -> 0.001}); empty without a sweep
 */
public record CellSpec(Cell cell, Experiment experiment, Map<String, Object> sweep) {

    /** Keys that say where or how a run executes, not what it computes. */
    private static final List<String> NOT_IDENTITY = List.of("output", "device", "progress", "seeds", "compare",
            "data.eval-batch-size");

    public CellSpec {
        sweep = Map.copyOf(sweep);
    }

    /**
     * The settings that define a cell's result: a rendered config ({@code config.conf}) without what only says where
     * or how the run executes. Two runs of one cell must agree on these; a finished cell with other settings is never
     * silently reused.
     */
    public static Config identity(String renderedConfig) {
        Config c = ConfigFactory.parseString(renderedConfig);
        for (String key : NOT_IDENTITY) {
            c = c.withoutPath(key);
        }
        return c;
    }

    /** The keys whose values differ between two identities, with both values ({@code key: a vs b}); empty if equal. */
    public static List<String> differences(Config stored, Config now) {
        TreeSet<String> keys = new TreeSet<>();
        stored.entrySet().forEach(e -> keys.add(e.getKey()));
        now.entrySet().forEach(e -> keys.add(e.getKey()));
        List<String> out = new ArrayList<>();
        for (String key : keys) {
            Object a = stored.hasPath(key) ? unwrap(stored.getValue(key)) : null;
            Object b = now.hasPath(key) ? unwrap(now.getValue(key)) : null;
            if (!Objects.equals(a, b)) {
                out.add(key + ": " + a + " then, " + b + " now");
            }
        }
        return out;
    }

    private static Object unwrap(ConfigValue v) {
        Object u = v.unwrapped();
        return u instanceof Number n ? (Object) n.doubleValue() : u;
    }
}
