package org.peft4j.runner.report;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;
import org.peft4j.runner.experiment.CellStatus;
import org.peft4j.runner.experiment.Comparison;
import org.peft4j.runner.experiment.Selection;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/**
 * Reads an experiment's results tree (never anything else) and writes its report into {@code <experiment>/report/}:
 * {@code results.md} and {@code results.csv} (the papers' table), {@code runs.csv} (every run),
 * {@code selection.csv} (the sweep point chosen per dataset and method, with its validation accuracy), and PNG charts.
 * Works while runs are still going: only finished final runs count.
 */
public final class Report {

    public static final String FOLDER = "report";
    /** Depth of a metrics file below its experiment folder: dataset/method/point/protocol/seed-n/metrics.json. */
    private static final int CELL_DEPTH = 6;

    private final Path folder;
    private final String markdown;
    private final ResultsTable table;
    private final List<RunRecord> runs;

    private Report(Path folder, String markdown, ResultsTable table, List<RunRecord> runs) {
        this.folder = folder;
        this.markdown = markdown;
        this.table = table;
        this.runs = runs;
    }

    public Path folder() {
        return folder;
    }

    public String markdown() {
        return markdown;
    }

    public ResultsTable table() {
        return table;
    }

    public List<RunRecord> runs() {
        return runs;
    }

    /** The experiment folders under {@code dir} ({@code dir} itself if it is one). */
    public static List<Path> experimentFolders(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new PeftException("results folder not found: " + dir);
        }
        List<Path> metrics = metricsFiles(dir, CELL_DEPTH + 1);
        List<Path> experiments = metrics.stream().map(m -> ancestor(m, CELL_DEPTH)).distinct().sorted().toList();
        if (experiments.isEmpty()) {
            throw new PeftException("no peft4j results under " + dir + " (expected <experiment>/<dataset>/<method>/<point>/"
                    + "<protocol>/seed-<n>/metrics.json)");
        }
        return experiments;
    }

    /** Reads the experiment's runs and writes its report. */
    public static Report write(Path experimentFolder) {
        List<RunRecord> runs = new ArrayList<>();
        for (Path m : metricsFiles(experimentFolder, CELL_DEPTH)) {
            if (ancestor(m, CELL_DEPTH).equals(experimentFolder)) {
                runs.add(RunRecord.read(m));
            }
        }
        runs.sort(Comparator.comparing(RunRecord::folder));
        String name = experimentFolder.getFileName().toString();
        List<Tables.Choice> choices = selections(experimentFolder);
        Map<String, String> selected = new LinkedHashMap<>();
        choices.forEach(c -> selected.put(c.dataset() + "/" + c.method(), c.point()));
        ResultsTable table = ResultsTable.of(runs, selected, planOrder(experimentFolder, "methods"),
                planOrder(experimentFolder, "datasets"));
        Path out = experimentFolder.resolve(FOLDER);
        String md = Tables.markdown(name, table, runs, choices);
        try {
            Files.createDirectories(out);
            AtomicFiles.writeString(out.resolve("results.md"), md);
            AtomicFiles.writeString(out.resolve("results.csv"), Tables.csv(table));
            AtomicFiles.writeString(out.resolve("runs.csv"), Tables.runsCsv(runs));
            AtomicFiles.writeString(out.resolve("selection.csv"), Tables.selectionCsv(choices));
            if (!table.methods().isEmpty()) {
                Charts.accuracy(out.resolve("accuracy.png"), table, name + ": test accuracy");
                Charts.accuracyVsParameters(out.resolve("accuracy-vs-params.png"), table, name + ": accuracy vs trainable parameters");
                for (String dataset : table.datasets()) {
                    Charts.learningCurves(out.resolve("curves-" + dataset + ".png"), dataset, table.runs());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the report into " + out + ": " + e.getMessage(), e);
        }
        return new Report(out, md, table, runs);
    }

    /** Every cell folder of the experiment with a status, finished or not (for {@code peft4j status}). */
    public static List<Path> cellFolders(Path experimentFolder) {
        try (Stream<Path> files = Files.find(experimentFolder, CELL_DEPTH,
                (p, a) -> p.getFileName().toString().equals(CellStatus.FILE))) {
            return files.map(Path::getParent).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + experimentFolder, e);
        }
    }

    /** Each recorded sweep-point choice: (dataset, method, selection.json contents). */
    static List<Tables.Choice> selections(Path experimentFolder) {
        try (Stream<Path> files = Files.find(experimentFolder, 3, (p, a) -> p.getFileName().toString().equals(Selection.FILE))) {
            List<Tables.Choice> out = new ArrayList<>();
            for (Path f : files.sorted().toList()) {
                JsonObject json = Json.read(f);
                Path method = f.getParent();
                out.add(new Tables.Choice(method.getParent().getFileName().toString(), method.getFileName().toString(),
                        json.get("selected").getAsString(), json.get("split").getAsString(),
                        json.getAsJsonObject("scores").has(json.get("selected").getAsString())
                                ? json.getAsJsonObject("scores").get(json.get("selected").getAsString()).getAsDouble() : Double.NaN));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + experimentFolder, e);
        }
    }

    /** The order the comparison file gave (methods or datasets), if a comparison wrote its plan here. */
    private static List<String> planOrder(Path experimentFolder, String key) {
        Path plan = experimentFolder.resolve(Comparison.PLAN);
        if (!Files.isRegularFile(plan)) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        Json.read(plan).getAsJsonArray(key).forEach(e -> out.add(e.getAsString()));
        return out;
    }

    private static List<Path> metricsFiles(Path dir, int depth) {
        try (Stream<Path> files = Files.find(dir, depth, (p, a) -> p.getFileName().toString().equals(RunDirectory.METRICS))) {
            return files.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir, e);
        }
    }

    private static Path ancestor(Path p, int levels) {
        Path out = p;
        for (int i = 0; i < levels && out != null; i++) {
            out = out.getParent();
        }
        return out == null ? p.getRoot() : out;
    }

    static String percent(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", 100 * v);
    }
}
