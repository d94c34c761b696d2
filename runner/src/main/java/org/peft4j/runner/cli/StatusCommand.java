package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.peft4j.api.PeftException;
import org.peft4j.runner.experiment.CellStatus;
import org.peft4j.runner.experiment.Comparison;
import org.peft4j.runner.experiment.Matrix;
import org.peft4j.runner.registry.MethodRegistries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code peft4j status results/exp}: finished, running, stopped and failed cells, with each failure's reason. */
@Command(name = "status", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Show the cells of each experiment under a results folder: finished, running, stopped (its process or "
                + "Slurm task is gone), failed (with the reason), and how many of the comparison's cells have not started.")
public final class StatusCommand implements Callable<Integer> {

    /** Depth of a status file below its experiment folder. */
    private static final int CELL_DEPTH = 6;

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "An experiment's results folder, or a folder of several.")
    Path dir;

    private final MethodRegistries registries;

    @Inject
    StatusCommand(MethodRegistries registries) {
        this.registries = registries;
    }

    @Override
    public Integer call() throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new PeftException("results folder not found: " + dir);
        }
        Map<Path, List<Path>> experiments = new LinkedHashMap<>();
        try (Stream<Path> files = Files.find(dir, CELL_DEPTH + 1, (p, a) -> p.getFileName().toString().equals(CellStatus.FILE))) {
            for (Path f : files.sorted().toList()) {
                Path cell = f.getParent();
                experiments.computeIfAbsent(ancestor(cell, CELL_DEPTH - 1), k -> new ArrayList<>()).add(cell);
            }
        }
        if (experiments.isEmpty()) {
            throw new PeftException("no peft4j runs under " + dir + " (no " + CellStatus.FILE + " in <experiment>/<dataset>/"
                    + "<method>/<point>/<protocol>/seed-<n>/)");
        }
        PrintWriter out = spec.commandLine().getOut();
        Set<String> queued = slurmTasks();
        boolean any = false;
        for (Map.Entry<Path, List<Path>> e : experiments.entrySet()) {
            any |= show(e.getKey(), e.getValue(), queued, out);
        }
        out.flush();
        return any ? 1 : 0;
    }

    /** Prints one experiment; returns whether any cell failed or stopped. */
    private boolean show(Path experiment, List<Path> cells, Set<String> queued, PrintWriter out) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String s : List.of("ok", "running", "stopped", "failed")) {
            counts.put(s, 0);
        }
        List<String> lines = new ArrayList<>();
        for (Path cell : cells) {
            CellStatus status = CellStatus.read(cell).orElseThrow();
            String label = experiment.relativize(cell).toString();
            String state = status.state();
            if (state.equals(CellStatus.RUNNING) && stopped(status, queued)) {
                state = "stopped";
            }
            counts.merge(state, 1, Integer::sum);
            switch (state) {
                case "failed" -> lines.add("  failed   " + label + ": " + status.reason());
                case "stopped" -> lines.add("  stopped  " + label + ": its process is gone (" + status.process()
                        + (status.slurmJob() != null ? ", Slurm task " + status.slurmJob() : "") + "); it resumes when run again");
                case "running" -> lines.add("  running  " + label + " (" + status.process()
                        + (status.slurmJob() != null ? ", Slurm task " + status.slurmJob() : "") + ")");
                default -> { }
            }
        }
        String planned = planned(experiment).map(n -> ", " + Math.max(0, n - cells.size()) + " of " + n + " not started")
                .orElse("");
        out.printf("%s: %d ok, %d running, %d stopped, %d failed%s%n", experiment.getFileName(), counts.get("ok"),
                counts.get("running"), counts.get("stopped"), counts.get("failed"), planned);
        lines.forEach(out::println);
        return counts.get("failed") + counts.get("stopped") > 0;
    }

    /** The number of cells the experiment's comparison plans, if a comparison wrote its matrix file. */
    private Optional<Integer> planned(Path experiment) {
        Path file = experiment.resolve(Comparison.MATRIX_FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Matrix matrix = Matrix.load(file, List.of(), registries.forPlugins(common.pluginsDir()));
        return Optional.of(matrix.tuneCells().size() + matrix.finalSlots().size());
    }

    /** A running cell whose process is gone: on this host by pid, under Slurm by its task no longer in the queue. */
    private static boolean stopped(CellStatus status, Set<String> queued) {
        Optional<Long> pid = status.localPid();
        if (status.slurmJob() != null && queued != null) {
            return !queued.contains(status.slurmJob());
        }
        return pid.isPresent() && ProcessHandle.of(pid.get()).map(p -> !p.isAlive()).orElse(true);
    }

    /** Job ids in the Slurm queue ({@code 12_3}, {@code 15}), or null without Slurm. */
    private static Set<String> slurmTasks() {
        try {
            Process p = new ProcessBuilder("squeue", "-h", "-r", "-o", "%i").redirectErrorStream(true).start();
            String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return null;
            }
            return new TreeSet<>(text.lines().map(String::trim).filter(l -> !l.isEmpty()).toList());
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static Path ancestor(Path p, int levels) {
        Path out = p;
        for (int i = 0; i < levels; i++) {
            out = out.getParent();
        }
        return out;
    }
}
