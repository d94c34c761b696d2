package org.peft4j.runner.experiment;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;
import org.peft4j.runner.results.Json;

/**
 * {@code peft4j compare --executor slurm}: the matrix as two job arrays. The tune array runs every sweep point on the
 * validation protocol; the final array waits for it ({@code --dependency=afterok}) and each of its tasks picks its
 * group's best point from the results tree, then trains and tests it. Cells already finished are not submitted; cells
 * are idempotent and resume from their checkpoint when Slurm requeues them.
 */
public final class SlurmSubmitter {

    /** What was (or, on a dry run, would be) submitted. */
    public record Submission(List<Integer> tune, List<Integer> finals, String tuneJob, String finalJob, Path folder) {}

    private final List<String> sbatch;
    private final List<String> squeue;

    public SlurmSubmitter() {
        this(List.of("sbatch"), List.of("squeue"));
    }

    /** With other commands in place of sbatch and squeue (tests). */
    public SlurmSubmitter(List<String> sbatch, List<String> squeue) {
        this.sbatch = List.copyOf(sbatch);
        this.squeue = List.copyOf(squeue);
    }

    /**
     * Writes the scripts and submits the cells that are not finished.
     *
     * @param retryFailed submit only cells that ran and did not finish (failed, or stopped while running), and the final
     *     cells that never ran because a tune cell was among those
     */
    public Submission submit(Matrix matrix, boolean retryFailed, boolean dryRun, PrintWriter out) {
        SlurmScripts.Resources resources = SlurmScripts.Resources.from(matrix.settings().getConfig("executor.slurm"),
                matrix.source());
        Path experiment = matrix.output().resolve(matrix.experiment()).toAbsolutePath();
        String name = "peft4j-" + matrix.experiment();
        if (!dryRun) {
            List<String> active = activeJobs(name);
            if (!active.isEmpty()) {
                throw new PeftException(active.size() + " task(s) of " + matrix.experiment() + " are still queued or running ("
                        + String.join(", ", active.subList(0, Math.min(5, active.size()))) + "); wait for them or scancel them first");
            }
        }
        Comparison.checkExistingCells(matrix);
        Path matrixFile = Comparison.writePlan(matrix).toAbsolutePath();
        List<Integer> tune = new ArrayList<>();
        List<CellSpec> tuneCells = matrix.tuneCells();
        for (int i = 0; i < tuneCells.size(); i++) {
            if (needsRun(cellState(matrix, tuneCells.get(i)), retryFailed)) {
                tune.add(i);
            }
        }
        List<Integer> finals = new ArrayList<>();
        List<Matrix.FinalSlot> slots = matrix.finalSlots();
        for (int i = 0; i < slots.size(); i++) {
            String state = slotState(matrix, slots.get(i));
            // on a retry, final cells that never ran because the tune array did not succeed run again after it
            if (needsRun(state, retryFailed) || (retryFailed && !tune.isEmpty() && state.equals("new"))) {
                finals.add(i);
            }
        }
        Path folder = experiment.resolve("slurm");
        Path logs = folder.resolve("logs");
        Path workdir = Path.of("").toAbsolutePath();
        String tuneScript = tune.isEmpty() ? null
                : SlurmScripts.script(name + "-tune", "tune", tune, resources, workdir, matrixFile, logs);
        String finalScript = finals.isEmpty() ? null
                : SlurmScripts.script(name + "-final", "final", finals, resources, workdir, matrixFile, logs);
        out.printf("%s: %d of %d tune cells and %d of %d final cells to run%n", matrix.experiment(), tune.size(), tuneCells.size(),
                finals.size(), slots.size());
        if (dryRun) {
            printPlan(matrix, tune, finals, tuneScript, finalScript, out);
            return new Submission(tune, finals, null, null, folder);
        }
        try {
            Files.createDirectories(logs);
            String tuneJob = null;
            String finalJob = null;
            if (tuneScript != null) {
                AtomicFiles.writeString(folder.resolve("tune.sbatch"), tuneScript);
                tuneJob = run(with(sbatch, "--parsable", folder.resolve("tune.sbatch").toString())).trim().split(";")[0];
                out.println("submitted the tune array: job " + tuneJob + " (" + tune.size() + " tasks)");
            }
            if (finalScript != null) {
                AtomicFiles.writeString(folder.resolve("final.sbatch"), finalScript);
                List<String> cmd = new ArrayList<>(sbatch);
                cmd.add("--parsable");
                if (tuneJob != null) {
                    cmd.add("--dependency=afterok:" + tuneJob);
                }
                cmd.add(folder.resolve("final.sbatch").toString());
                finalJob = run(cmd).trim().split(";")[0];
                out.println("submitted the final array: job " + finalJob + " (" + finals.size() + " tasks"
                        + (tuneJob != null ? ", after the tune array succeeds" : "") + ")");
            }
            Map<String, Object> record = new LinkedHashMap<>();
            record.put("tune_job", tuneJob);
            record.put("final_job", finalJob);
            record.put("tune_indices", tune);
            record.put("final_indices", finals);
            Json.write(folder.resolve("jobs.json"), record);
            out.println("follow it with: peft4j status " + experiment + "   (report works while it runs)");
            return new Submission(tune, finals, tuneJob, finalJob, folder);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the Slurm scripts into " + folder, e);
        }
    }

    private static boolean needsRun(String state, boolean retryFailed) {
        if (state.equals(CellStatus.OK)) {
            return false;
        }
        return !retryFailed || !state.equals("new");
    }

    /** ok, failed, running (a stopped task looks like this too) or new. */
    private static String cellState(Matrix matrix, CellSpec spec) {
        return CellStatus.read(spec.cell().folder(matrix.output())).map(CellStatus::state).orElse("new");
    }

    private static String slotState(Matrix matrix, Matrix.FinalSlot slot) {
        String point = slot.point();
        Path selection = Selection.file(matrix, slot.group());
        if (point == null && Files.isRegularFile(selection)) {
            point = Json.read(selection).get("selected").getAsString();
        }
        if (point == null) {
            return "new";
        }
        return cellState(matrix, matrix.cell(slot.group(), slot.group().point(point), "final", slot.seed()));
    }

    private void printPlan(Matrix matrix, List<Integer> tune, List<Integer> finals, String tuneScript, String finalScript,
            PrintWriter out) {
        List<CellSpec> tuneCells = matrix.tuneCells();
        List<Matrix.FinalSlot> slots = matrix.finalSlots();
        out.println("tune cells (array index: cell):");
        tune.forEach(i -> out.println("  " + i + ": " + tuneCells.get(i).cell().label()));
        out.println("final cells (array index: cell; the point is chosen from the tune results when the task starts):");
        finals.forEach(i -> {
            Matrix.FinalSlot s = slots.get(i);
            out.println("  " + i + ": " + s.group().dataset() + "/" + s.group().method() + "/"
                    + (s.point() == null ? "<best on validation>" : s.point()) + "/final/seed-" + s.seed());
        });
        if (tuneScript != null) {
            out.println("---- tune.sbatch");
            out.print(tuneScript);
        }
        if (finalScript != null) {
            out.println("---- final.sbatch" + (tuneScript != null ? " (submitted with --dependency=afterok:<tune job>)" : ""));
            out.print(finalScript);
        }
        out.flush(); // a PrintWriter flushes by itself only at println
    }

    /**
     * Array tasks of this experiment still queued or running (names start with {@code name}). A final array that
     * waits on a tune array that failed can never start: it is cancelled here, so a retry can replace it.
     */
    private List<String> activeJobs(String name) {
        String listing = run(with(squeue, "-h", "-o", "%i %j %r"));
        List<String> active = new ArrayList<>();
        for (String line : listing.split("\n")) {
            String[] parts = line.trim().split("\\s+");
            if (parts.length >= 2 && parts[1].startsWith(name + "-")) {
                if (parts.length >= 3 && parts[2].equals("DependencyNeverSatisfied")) {
                    run(List.of(scancel(), parts[0]));
                } else {
                    active.add(parts[0]);
                }
            }
        }
        return active;
    }

    /** scancel, next to the configured squeue. */
    private String scancel() {
        String q = squeue.get(0);
        return q.endsWith("squeue") ? q.substring(0, q.length() - "squeue".length()) + "scancel" : "scancel";
    }

    private static List<String> with(List<String> command, String... args) {
        List<String> out = new ArrayList<>(command);
        out.addAll(List.of(args));
        return out;
    }

    private static String run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new PeftException(String.join(" ", command.subList(0, 1)) + " failed: " + output.trim());
            }
            return output;
        } catch (IOException e) {
            throw new PeftException("cannot run " + command.get(0) + " (is Slurm installed and on the PATH?): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PeftException("interrupted while running " + command.get(0));
        }
    }
}
