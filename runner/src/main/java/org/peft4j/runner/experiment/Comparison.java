package org.peft4j.runner.experiment;

import com.google.inject.Inject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.report.Report;
import org.peft4j.runner.results.Json;

/**
 * {@code peft4j compare}: runs a matrix with the honest protocol. Stage 1 trains every sweep point of each
 * (dataset, method) on the tune split and scores it on the validation split; the best point is recorded in
 * {@code selection.json}. Stage 2 retrains that point on the final split with every seed and tests it. Finished
 * cells are skipped, so a stopped comparison started again finishes the rest. The report is written at the end.
 */
public final class Comparison {

    /** What the comparison came to: failures by cell label, the choice per dataset/method, the report. */
    public record Summary(int cells, Map<String, String> failed, Map<String, Selection> selections, Report report) {}

    /** The matrix's plan in the experiment folder: datasets, methods and seeds in the file's order. */
    public static final String PLAN = "compare.json";
    /** The comparison file with its overrides, as the cells' processes (run-cell, Slurm tasks) read it. */
    public static final String MATRIX_FILE = "compare.conf";

    private final CellRunner runner;

    @Inject
    public Comparison(CellRunner runner) {
        this.runner = runner;
    }

    public Summary run(Matrix matrix, MethodRegistry methods, Executor executor, boolean force, boolean terminal,
            PrintWriter out) {
        List<CellSpec> tune = matrix.tuneCells();
        List<Matrix.FinalSlot> slots = matrix.finalSlots();
        if (!force) {
            checkExistingCells(matrix);
        }
        writePlan(matrix);
        out.printf(Locale.ROOT, "compare %s: %d datasets x %d methods, %d tune runs, %d final runs (%d seeds) -> %s%n",
                matrix.experiment(), matrix.groups().stream().map(Matrix.Group::dataset).distinct().count(),
                matrix.groups().stream().map(Matrix.Group::method).distinct().count(), tune.size(), slots.size(),
                matrix.seeds().size(), matrix.output().resolve(matrix.experiment()));
        Map<String, String> failed = new LinkedHashMap<>();
        Map<String, Selection> selections = new LinkedHashMap<>();
        try (CompareProgress progress = new CompareProgress(out, tune.size() + slots.size(), terminal)) {
            failed.putAll(stage("tune", tune, executor, methods, force, progress, out));
            List<CellSpec> finals = new ArrayList<>();
            for (Matrix.Group g : matrix.groups()) {
                try {
                    Selection selection = Selection.choose(matrix, g);
                    if (matrix.tuneThenFinal() && g.tunes()) {
                        selection.write(Selection.file(matrix, g));
                        out.printf(Locale.ROOT, "%s/%s: chose %s by %s accuracy (%s)%n", g.dataset(), g.method(),
                                selection.point(), selection.split(), percent(selection.scores()));
                    }
                    selections.put(g.dataset() + "/" + g.method(), selection);
                } catch (PeftException e) {
                    out.println("no final runs for " + g.dataset() + "/" + g.method() + ": " + e.getMessage());
                }
            }
            for (Matrix.FinalSlot slot : slots) {
                Selection chosen = selections.get(slot.group().dataset() + "/" + slot.group().method());
                if (chosen != null) {
                    String point = slot.point() != null ? slot.point() : chosen.point();
                    finals.add(matrix.cell(slot.group(), slot.group().point(point), "final", slot.seed()));
                } else {
                    finals.add(null); // keeps indices aligned with finalSlots(); counted as failed below
                }
            }
            for (int i = 0; i < finals.size(); i++) {
                if (finals.get(i) == null) {
                    Matrix.FinalSlot s = slots.get(i);
                    String label = s.group().dataset() + "/" + s.group().method() + "/?/final/seed-" + s.seed();
                    failed.put(label, "its tune stage chose no sweep point");
                }
            }
            failed.putAll(stage("final", finals, executor, methods, force, progress, out));
        }
        Report report = Report.write(matrix.output().resolve(matrix.experiment()));
        out.println();
        out.print(report.markdown());
        out.println("report: " + report.folder());
        if (!failed.isEmpty()) {
            out.println(failed.size() + " cell(s) failed:");
            failed.forEach((c, why) -> out.println("  " + c + ": " + why));
        }
        return new Summary(tune.size() + slots.size(), failed, selections, report);
    }

    /** Runs one stage's cells (a null entry is a slot without a cell); finished ones are skipped here. */
    private Map<String, String> stage(String stage, List<CellSpec> cells, Executor executor, MethodRegistry methods,
            boolean force, CompareProgress progress, PrintWriter out) {
        List<Executor.Task> tasks = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
            CellSpec spec = cells.get(i);
            if (spec == null) {
                continue;
            }
            if (!force && CellStatus.read(spec.cell().folder(spec.experiment().run().output())).map(CellStatus::ok).orElse(false)) {
                progress.cellSkipped(spec.cell());
            } else {
                tasks.add(new Executor.Task(stage, i, spec.cell()));
            }
        }
        return executor.run(tasks, task -> runner.run(cells.get(task.index()), methods, force, out), progress);
    }

    /**
     * The experiment folder's {@code compare.json} (the order the report follows) and {@code compare.conf} (what the
     * cells' processes expand again).
     */
    public static Path writePlan(Matrix matrix) {
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("experiment", matrix.experiment());
        plan.put("datasets", matrix.groups().stream().map(Matrix.Group::dataset).distinct().toList());
        plan.put("methods", matrix.groups().stream().map(Matrix.Group::method).distinct().toList());
        plan.put("seeds", matrix.seeds());
        plan.put("tune_then_final", matrix.tuneThenFinal());
        plan.put("source", matrix.source());
        Path folder = matrix.output().resolve(matrix.experiment());
        try {
            Files.createDirectories(folder);
            Json.write(folder.resolve(PLAN), plan);
            AtomicFiles.writeString(folder.resolve(MATRIX_FILE), "# " + matrix.source() + " with its overrides, as the runs read it\n"
                    + matrix.render());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the plan into " + folder, e);
        }
        return folder.resolve(MATRIX_FILE);
    }

    /** A results folder written by other settings is refused before any training (names the folder and the keys). */
    public static void checkExistingCells(Matrix matrix) {
        List<CellSpec> known = new ArrayList<>(matrix.tuneCells());
        for (Matrix.FinalSlot slot : matrix.finalSlots()) {
            String point = slot.point();
            Path selectionFile = Selection.file(matrix, slot.group());
            if (point == null && Files.isRegularFile(selectionFile)) {
                String chosen = Json.read(selectionFile).get("selected").getAsString();
                point = slot.group().points().stream().anyMatch(p -> p.name().equals(chosen)) ? chosen : null;
            }
            if (point != null) {
                known.add(matrix.cell(slot.group(), slot.group().point(point), "final", slot.seed()));
            }
        }
        known.forEach(CellRunner::requireSameSettings);
    }

    private static String percent(Map<String, Double> scores) {
        List<String> parts = new ArrayList<>();
        scores.forEach((p, a) -> parts.add(p + " " + String.format(Locale.ROOT, "%.2f%%", 100 * a)));
        return String.join(", ", parts);
    }
}
