package org.peft4j.runner.experiment;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.Preflight;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.ExperimentLoader;
import org.peft4j.runner.registry.MethodRegistry;

/**
 * A comparison file expanded: datasets x methods x sweep points, each (dataset, method) a {@link Group} whose
 * points become cells per protocol and seed. Every cell's settings are validated when the matrix is loaded, and
 * every problem is reported at once, before any tensor is built.
 */
public final class Matrix {

    /** One combination of swept values, named for its folder ({@code lr=0.001,rank=4}). */
    public record Point(String name, Map<String, ConfigValue> values) {

        /** The values as plain objects, for metrics and reports. */
        public Map<String, Object> plain() {
            Map<String, Object> out = new LinkedHashMap<>();
            values.forEach((k, v) -> out.put(k, v.unwrapped()));
            return out;
        }
    }

    /** A dataset and a method (by label) with the method's settings and sweep points. */
    public record Group(String dataset, String method, Config methodBlock, List<Point> points) {

        public Point point(String name) {
            return points.stream().filter(p -> p.name().equals(name)).findFirst()
                    .orElseThrow(() -> new PeftException("no sweep point '" + name + "' for " + dataset + "/" + method
                            + " (points: " + points.stream().map(Point::name).toList() + ")"));
        }

        /** Whether a tune stage is needed: more than one point to choose from. */
        public boolean tunes() {
            return points.size() > 1;
        }
    }

    /**
     * A final run before its sweep point may be known: a group, the point ({@code null} until the tune stage chose
     * one) and a seed.
     */
    public record FinalSlot(Group group, String point, long seed) {}

    private final String source;
    private final Config user;
    private final Config base;
    private final String experiment;
    private final Path output;
    private final List<Long> seeds;
    private final boolean tuneThenFinal;
    private final List<Group> groups;
    private final ExperimentLoader loader;

    private Matrix(String source, Config user, Config base, String experiment, Path output, List<Long> seeds, boolean tuneThenFinal,
            List<Group> groups, ExperimentLoader loader) {
        this.source = source;
        this.user = user;
        this.base = base;
        this.experiment = experiment;
        this.output = output;
        this.seeds = seeds;
        this.tuneThenFinal = tuneThenFinal;
        this.groups = groups;
        this.loader = loader;
    }

    /** Reads and validates a comparison file with {@code --set} overrides. */
    public static Matrix load(Path file, List<String> overrides, MethodRegistry methods) {
        return load(ExperimentLoader.parseFile(file), file.toString(), overrides, methods);
    }

    public static Matrix load(Config userConfig, String source, List<String> overrides, MethodRegistry methods) {
        Config user = ExperimentLoader.withOverrides(userConfig, overrides);
        Problems problems = new Problems();
        Config compare = user.hasPath("compare") ? user.getConfig("compare") : ConfigFactory.empty();
        for (String key : compare.root().keySet()) {
            if (!List.of("datasets", "methods", "sweep", "protocol").contains(key)) {
                problems.add(compare.root().get(key).origin(), "unknown key 'compare." + key
                        + "' (compare takes datasets, methods, sweep, protocol)");
            }
        }
        Config base = user.withoutPath("compare");
        ExperimentLoader loader = new ExperimentLoader(methods);
        // the base must be a valid experiment on its own (names the file's own mistakes once, not per cell)
        Experiment probe;
        try {
            probe = loader.load(base, source, List.of());
        } catch (PeftException e) {
            throw new PeftException(e.getMessage());
        }
        String format = probe.data().format();
        String protocol = compare.hasPath("protocol") ? compare.getString("protocol") : "auto";
        boolean tuneThenFinal = switch (protocol) {
            case "auto", "vtab-1k", "fgvc" -> true;
            case "none" -> false;
            default -> {
                problems.add(compare.getValue("protocol").origin(), "compare.protocol must be auto, vtab-1k, fgvc or none, got '"
                        + protocol + "'");
                yield false;
            }
        };
        if ((protocol.equals("vtab-1k") && !format.equals("vtab")) || (protocol.equals("fgvc") && !format.equals("fgvc"))) {
            problems.add(compare.getValue("protocol").origin(), "compare.protocol " + protocol + " needs data.format = "
                    + (protocol.equals("fgvc") ? "fgvc" : "vtab") + ", the file has " + format);
        }
        List<String> datasets = strings(compare, "datasets", problems);
        if (datasets.isEmpty()) {
            datasets = List.of(probe.data().name());
        }
        List<Config> methodBlocks = methodBlocks(compare, base, problems);
        Map<String, List<ConfigValue>> globalSweep = sweep(compare, "compare.sweep", problems);

        List<Group> groups = new ArrayList<>();
        Set<String> labels = new LinkedHashSet<>();
        for (Config block : methodBlocks) {
            String id = block.getString("id");
            String label = block.hasPath("label") ? block.getString("label") : id;
            if (!labels.add(label)) {
                problems.add(block.root().origin(), "two methods are labelled '" + label + "': give each a distinct label");
                continue;
            }
            if (!methods.ids().contains(id)) {
                problems.add(block.root().origin(), "unknown method '" + id + "' (known: " + methods.ids() + ")");
                continue;
            }
            Map<String, List<ConfigValue>> sweep = new LinkedHashMap<>(globalSweep);
            if (block.hasPath("sweep")) {
                sweep.putAll(sweep(block, "sweep of method " + label, problems));
            }
            checkSweepKeys(sweep, id, methods, problems);
            Config options = block.withoutPath("label").withoutPath("sweep");
            List<Point> points = points(sweep);
            for (String dataset : datasets) {
                groups.add(new Group(dataset, label, options, points));
            }
        }
        problems.throwIfAny(source);
        Matrix matrix = new Matrix(source, user, base, probe.run().experiment(), probe.run().output(), probe.run().seeds(),
                tuneThenFinal, groups, loader);
        matrix.validateEveryCell(problems);
        problems.throwIfAny(source);
        return matrix;
    }

    public String experiment() {
        return experiment;
    }

    public Path output() {
        return output;
    }

    public List<Long> seeds() {
        return seeds;
    }

    public List<Group> groups() {
        return groups;
    }

    /** The file's settings with the overrides applied, as HOCON: loading it again gives this same matrix. */
    public String render() {
        return user.root().render(ConfigRenderOptions.defaults().setOriginComments(false).setJson(false));
    }

    public String source() {
        return source;
    }

    /** The experiment's resolved settings (without a method's options), e.g. the executor block. */
    public Config settings() {
        return loader.load(base, source, List.of()).config();
    }

    /**
     * Every final run in a fixed order (group, then point, then seed): what {@code run-cell <file> final <i>} means.
     * A group that tunes has one slot per seed whose point the tune stage picks.
     */
    public List<FinalSlot> finalSlots() {
        List<FinalSlot> slots = new ArrayList<>();
        for (Group g : groups) {
            List<String> points = tuneThenFinal && g.tunes() ? java.util.Collections.singletonList(null)
                    : tuneThenFinal ? List.of(g.points().get(0).name()) : g.points().stream().map(Point::name).toList();
            for (String point : points) {
                for (long seed : seeds) {
                    slots.add(new FinalSlot(g, point, seed));
                }
            }
        }
        return slots;
    }

    /** The cell of a final slot; a slot whose point the tune stage picks reads (and records) that choice. */
    public CellSpec resolve(FinalSlot slot) {
        String point = slot.point();
        if (point == null) {
            Selection selection = Selection.choose(this, slot.group());
            selection.write(Selection.file(this, slot.group()));
            point = selection.point();
        }
        return cell(slot.group(), slot.group().point(point), "final", slot.seed());
    }

    /**
     * What {@link Preflight} checks, for every distinct run of the matrix, before anything trains: the split lists,
     * labels and image headers of each (dataset, protocol) once, and each method's options, the backbone, the
     * checkpoint header and the device. Every problem is thrown at once.
     */
    public void preflight(BackboneRegistry backbones) {
        Set<String> dataChecked = new LinkedHashSet<>();
        Set<String> runChecked = new LinkedHashSet<>();
        List<String> problems = new ArrayList<>();
        for (Group g : groups) {
            for (Point p : g.points()) {
                for (String protocol : tuneThenFinal && g.tunes() ? List.of("tune", "final") : List.of("final")) {
                    Experiment e = cell(g, p, protocol, seeds.get(0)).experiment();
                    boolean dataFirst = dataChecked.add(g.dataset() + "|" + protocol);
                    if (!runChecked.add(CellSpec.identity(e.render()).withoutPath("seed").root().render()) && !dataFirst) {
                        continue;
                    }
                    try {
                        Preflight.check(new ExperimentLoader.Validation(e, List.of(), dataFirst ? Set.of() : Set.of("data")),
                                loader.methods(), backbones);
                    } catch (PeftException ex) {
                        ex.problems().stream().map(m -> g.dataset() + "/" + g.method() + "/" + p.name() + ": " + m)
                                .forEach(problems::add);
                    }
                }
            }
        }
        PeftException.throwIfAny(problems.stream().distinct().toList());
    }

    /** Whether sweep points are chosen on the tune split before the final runs. */
    public boolean tuneThenFinal() {
        return tuneThenFinal;
    }

    /** The tune-stage cells: every point of every group that has a choice to make, first seed. */
    public List<CellSpec> tuneCells() {
        List<CellSpec> cells = new ArrayList<>();
        if (!tuneThenFinal) {
            return cells;
        }
        for (Group g : groups) {
            if (g.tunes()) {
                for (Point p : g.points()) {
                    cells.add(cell(g, p, "tune", seeds.get(0)));
                }
            }
        }
        return cells;
    }

    /** The final cells of a group: its chosen point (or every point without a tune stage) for every seed. */
    public List<CellSpec> finalCells(Group g, String chosenPoint) {
        List<CellSpec> cells = new ArrayList<>();
        List<Point> points = tuneThenFinal ? List.of(g.point(chosenPoint)) : g.points();
        for (Point p : points) {
            for (long seed : seeds) {
                cells.add(cell(g, p, "final", seed));
            }
        }
        return cells;
    }

    /** One cell: the base settings, the method block, the dataset, the point's values, the protocol and the seed. */
    public CellSpec cell(Group g, Point p, String protocol, long seed) {
        Config c = g.methodBlock().atPath("method").withFallback(base.withoutPath("method"));
        c = c.withValue("data.name", ConfigValueFactory.fromAnyRef(g.dataset()))
                .withValue("data.protocol", ConfigValueFactory.fromAnyRef(protocol));
        for (Map.Entry<String, ConfigValue> v : p.values().entrySet()) {
            c = c.withValue(v.getKey(), v.getValue());
        }
        Experiment e = loader.load(c, source, List.of()).withSeed(seed);
        Cell cell = new Cell(experiment, Cell.folderName(g.dataset()), g.method(), p.name(), protocol, seed);
        return new CellSpec(cell, e, p.plain());
    }

    private void validateEveryCell(Problems problems) {
        for (Group g : groups) {
            for (Point p : g.points()) {
                for (String protocol : tuneThenFinal ? List.of("tune", "final") : List.of("final")) {
                    try {
                        cell(g, p, protocol, seeds.get(0));
                    } catch (PeftException e) {
                        problems.add(null, g.dataset() + "/" + g.method() + "/" + p.name() + ": " + e.getMessage());
                    }
                }
            }
        }
    }

    private static List<String> strings(Config c, String key, Problems problems) {
        if (!c.hasPath(key)) {
            return List.of();
        }
        try {
            return c.getStringList(key);
        } catch (ConfigException.WrongType e) {
            problems.add(c.getValue(key).origin(), "compare." + key + " must be a list of names");
            return List.of();
        }
    }

    private static List<Config> methodBlocks(Config compare, Config base, Problems problems) {
        if (!compare.hasPath("methods") || compare.getList("methods").isEmpty()) {
            return List.of(base.hasPath("method") ? base.getConfig("method") : ConfigFactory.parseString("id = lora"));
        }
        List<Config> blocks = new ArrayList<>();
        ConfigList list = compare.getList("methods");
        for (ConfigValue v : list) {
            if (v.valueType() == ConfigValueType.STRING) {
                blocks.add(ConfigFactory.empty(v.origin().description()).withValue("id", v));
            } else if (v.valueType() == ConfigValueType.OBJECT && ((ConfigObject) v).containsKey("id")) {
                blocks.add(((ConfigObject) v).toConfig());
            } else {
                problems.add(v.origin(), "each entry of compare.methods is a method id or a block with an id, got " + v.render());
            }
        }
        return blocks;
    }

    /** The keys and value lists of a sweep block (keys as written: {@code train.lr}). */
    private static Map<String, List<ConfigValue>> sweep(Config c, String what, Problems problems) {
        Map<String, List<ConfigValue>> out = new LinkedHashMap<>();
        if (!c.hasPath("sweep")) {
            return out;
        }
        for (Map.Entry<String, ConfigValue> e : c.getConfig("sweep").entrySet()) {
            ConfigValue v = e.getValue();
            if (v.valueType() != ConfigValueType.LIST) {
                problems.add(v.origin(), what + ": '" + e.getKey() + "' must be a list of values, got " + v.render());
            } else if (((ConfigList) v).isEmpty()) {
                problems.add(v.origin(), what + ": '" + e.getKey() + "' is an empty list, which gives no sweep point");
            } else {
                out.put(e.getKey(), List.copyOf((ConfigList) v));
            }
        }
        return out;
    }

    private static void checkSweepKeys(Map<String, List<ConfigValue>> sweep, String methodId, MethodRegistry methods,
            Problems problems) {
        Config runner = methods.reference().getConfig("peft4j").withoutPath("methods").withoutPath("compare");
        Config method = methods.defaults(methodId);
        for (Map.Entry<String, List<ConfigValue>> e : sweep.entrySet()) {
            String key = e.getKey();
            ConfigOrigin origin = e.getValue().get(0).origin();
            boolean known;
            Set<String> candidates = new TreeSet<>();
            if (key.startsWith("method.")) {
                String option = key.substring("method.".length());
                known = !option.equals("id") && method.hasPathOrNull(option);
                method.entrySet().forEach(m -> candidates.add("method." + m.getKey()));
            } else {
                known = runner.hasPathOrNull(key) && !key.equals("seed") && !key.equals("seeds") && !key.startsWith("data.name");
                runner.entrySet().forEach(m -> candidates.add(m.getKey()));
            }
            if (!known) {
                String near = ExperimentLoader.closest(key, candidates);
                problems.add(origin, "sweep key '" + key + "' is not a setting" + (key.startsWith("method.") ? " of method "
                        + methodId : "") + (near == null ? "" : "; did you mean '" + near + "'?"));
            }
        }
    }

    /** Every combination of the swept values, in declaration order. */
    private static List<Point> points(Map<String, List<ConfigValue>> sweep) {
        List<Map<String, ConfigValue>> combos = new ArrayList<>();
        combos.add(new LinkedHashMap<>());
        for (Map.Entry<String, List<ConfigValue>> e : sweep.entrySet()) {
            List<Map<String, ConfigValue>> next = new ArrayList<>();
            for (Map<String, ConfigValue> combo : combos) {
                for (ConfigValue v : e.getValue()) {
                    Map<String, ConfigValue> more = new LinkedHashMap<>(combo);
                    more.put(e.getKey(), v);
                    next.add(more);
                }
            }
            combos = next;
        }
        List<Point> points = new ArrayList<>();
        for (Map<String, ConfigValue> combo : combos) {
            points.add(new Point(pointName(combo), combo));
        }
        return points;
    }

    /** {@code lr=0.001,rank=4}: the last segment of each key (the whole key where two share it), then the value. */
    static String pointName(Map<String, ConfigValue> values) {
        if (values.isEmpty()) {
            return Cell.DEFAULT_POINT;
        }
        Set<String> shortNames = new TreeSet<>();
        boolean clash = values.keySet().stream().map(Matrix::shortKey).anyMatch(k -> !shortNames.add(k));
        List<String> parts = new ArrayList<>();
        values.forEach((k, v) -> parts.add((clash ? k : shortKey(k)) + "=" + valueName(v)));
        String name = Cell.folderName(String.join(",", parts));
        if (name.length() > 80) {
            name = name.substring(0, 70) + "@" + Integer.toHexString(name.hashCode());
        }
        return name;
    }

    private static String shortKey(String key) {
        return key.substring(key.lastIndexOf('.') + 1);
    }

    private static String valueName(ConfigValue v) {
        Object u = v.unwrapped();
        if (u instanceof List<?> list) {
            return String.join("+", list.stream().map(String::valueOf).toList());
        }
        return String.valueOf(u);
    }

    /** Problems collected across the whole file, reported together. */
    static final class Problems {
        private final Set<String> lines = new LinkedHashSet<>();

        void add(ConfigOrigin origin, String problem) {
            String where = origin == null || origin.lineNumber() < 0 ? "" : " (" + origin.description().replaceFirst(": \\d+$", "")
                    + (origin.lineNumber() > 0 ? " line " + origin.lineNumber() : "") + ")";
            lines.add(problem + where);
        }

        void throwIfAny(String source) {
            if (lines.size() == 1) {
                throw new PeftException(lines.iterator().next());
            }
            if (!lines.isEmpty()) {
                throw new PeftException(lines.size() + " problems in " + source + ":\n  " + String.join("\n  ", lines));
            }
        }
    }
}
