package org.peft4j.runner.experiment;

import com.google.inject.Inject;
import java.io.PrintStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.peft4j.api.PeftException;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.report.Report;

/**
 * {@code peft4j compare}: runs a matrix with the honest protocol. Stage 1 trains every sweep point of each
 * (dataset, method) on the tune split and scores it on the validation split; the best point is recorded in
 * {@code selection.json}. Stage 2 retrains that point on the final split with every seed and tests it. Finished
 * cells are skipped, so a stopped comparison started again finishes the rest. The report is written at the end.
 */
public final class Comparison {

    /** What the comparison came to. */
    public record Summary(int cells, Map<Cell, String> failed, Map<String, Selection> selections, Report report) {}

    /** The matrix's plan in the experiment folder. */
    public static final String PLAN = "compare.json";

    private final CellRunner runner;

    @Inject
    public Comparison(CellRunner runner) {
        this.runner = runner;
    }

    public Summary run(Matrix matrix, MethodRegistry methods, Executor executor, boolean force, boolean terminal,
            PrintStream out) {
        List<CellSpec> tune = matrix.tuneCells();
        int finals = 0;
        for (Matrix.Group g : matrix.groups()) {
            finals += matrix.seeds().size() * (matrix.tuneThenFinal() ? 1 : g.points().size());
        }
        if (!force) {
            checkExistingCells(matrix, tune);
        }
        out.printf(Locale.ROOT, "compare %s: %d datasets x %d methods, %d tune runs, %d final runs (%d seeds) -> %s%n",
                matrix.experiment(), matrix.groups().stream().map(Matrix.Group::dataset).distinct().count(),
                matrix.groups().stream().map(Matrix.Group::method).distinct().count(), tune.size(), finals,
                matrix.seeds().size(), matrix.output().resolve(matrix.experiment()));
        writePlan(matrix);
        Map<Cell, String> failed = new LinkedHashMap<>();
        Map<String, Selection> selections = new LinkedHashMap<>();
        try (CompareProgress progress = new CompareProgress(out, tune.size() + finals, terminal)) {
            Executor.CellTask task = spec -> runner.run(spec, methods, force, out);
            failed.putAll(executor.run(tune, task, progress).failed());
            List<CellSpec> finalCells = new ArrayList<>();
            for (Matrix.Group g : matrix.groups()) {
                Selection selection;
                try {
                    selection = Selection.choose(matrix, g);
                } catch (PeftException e) {
                    out.println("skipping the final runs of " + g.dataset() + "/" + g.method() + ": " + e.getMessage());
                    continue;
                }
                if (g.tunes() && matrix.tuneThenFinal()) {
                    selection.write(Selection.file(matrix, g));
                    out.printf(Locale.ROOT, "%s/%s: chose %s by %s accuracy %s%n", g.dataset(), g.method(), selection.point(),
                            selection.split(), percent(selection.scores()));
                }
                selections.put(g.dataset() + "/" + g.method(), selection);
                finalCells.addAll(matrix.finalCells(g, selection.point()));
            }
            failed.putAll(executor.run(finalCells, task, progress).failed());
        }
        Report report = Report.write(matrix.output().resolve(matrix.experiment()));
        out.println();
        out.print(report.markdown());
        out.println("report: " + report.folder());
        if (!failed.isEmpty()) {
            out.println(failed.size() + " cell(s) failed:");
            failed.forEach((c, why) -> out.println("  " + c.label() + ": " + why));
        }
        return new Summary(tune.size() + finals, failed, selections, report);
    }

    /** {@code <experiment>/compare.json}: the matrix's datasets, methods and seeds in the file's order (the report's order). */
    private static void writePlan(Matrix matrix) {
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("experiment", matrix.experiment());
        plan.put("datasets", matrix.groups().stream().map(Matrix.Group::dataset).distinct().toList());
        plan.put("methods", matrix.groups().stream().map(Matrix.Group::method).distinct().toList());
        plan.put("seeds", matrix.seeds());
        plan.put("tune_then_final", matrix.tuneThenFinal());
        Path file = matrix.output().resolve(matrix.experiment()).resolve(PLAN);
        try {
            Files.createDirectories(file.getParent());
            Json.write(file, plan);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** A results folder written by other settings is refused before any training (names the folder and the keys). */
    private void checkExistingCells(Matrix matrix, List<CellSpec> tune) {
        List<CellSpec> known = new ArrayList<>(tune);
        for (Matrix.Group g : matrix.groups()) {
            Path selectionFile = Selection.file(matrix, g);
            if (!matrix.tuneThenFinal() || !g.tunes()) {
                known.addAll(matrix.finalCells(g, g.points().get(0).name()));
            } else if (Files.isRegularFile(selectionFile)) {
                Optional<String> chosen = Optional.ofNullable(Json.read(selectionFile).get("selected"))
                        .map(j -> j.getAsString());
                chosen.filter(p -> g.points().stream().anyMatch(q -> q.name().equals(p)))
                        .ifPresent(p -> known.addAll(matrix.finalCells(g, p)));
            }
        }
        for (CellSpec spec : known) {
            CellRunner.requireSameSettings(spec);
        }
    }

    private static String percent(Map<String, Double> scores) {
        List<String> parts = new ArrayList<>();
        scores.forEach((p, a) -> parts.add(p + " " + String.format(Locale.ROOT, "%.2f%%", 100 * a)));
        return String.join(", ", parts);
    }
}
