package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.Preflight;
import org.peft4j.runner.experiment.CellRunner;
import org.peft4j.runner.experiment.CellSpec;
import org.peft4j.runner.experiment.Matrix;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code peft4j run-cell <matrix> <stage> <index>}: one cell of a comparison (a Slurm array task, a local worker). */
@Command(name = "run-cell", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = {"Run one cell of a comparison: what each Slurm array task and each local worker runs.",
                "A final cell whose sweep point the tune stage chooses reads that choice from the results tree."})
public final class RunCellCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "MATRIX", description = "The comparison file (e.g. results/<experiment>/compare.conf).")
    Path file;

    @Parameters(index = "1", paramLabel = "STAGE", description = "tune or final.")
    String stage;

    @Parameters(index = "2", paramLabel = "INDEX", description = "The cell's index in its stage (0-based).")
    int index;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting, e.g. --set device=gpu1 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--force", description = "Rerun the cell if it finished before.")
    boolean force;

    private final MethodRegistries registries;
    private final CellRunner runner;
    private final BackboneRegistry backbones;

    @Inject
    RunCellCommand(MethodRegistries registries, CellRunner runner, BackboneRegistry backbones) {
        this.registries = registries;
        this.runner = runner;
        this.backbones = backbones;
    }

    @Override
    public Integer call() {
        MethodRegistry methods = registries.forPlugins(common.pluginsDir());
        Matrix matrix = Matrix.load(file, overrides, methods);
        CellSpec cell = switch (stage) {
            case "tune" -> pick(matrix.tuneCells(), "tune");
            case "final" -> matrix.resolve(pick(matrix.finalSlots(), "final"));
            default -> throw new PeftException("STAGE must be tune or final, got '" + stage + "'");
        };
        Preflight.check(cell.experiment(), methods, backbones); // names every problem before the cell builds anything
        PrintWriter out = spec.commandLine().getOut();
        runner.run(cell, methods, force, out);
        out.flush();
        return 0;
    }

    private <T> T pick(List<T> cells, String what) {
        if (index < 0 || index >= cells.size()) {
            throw new PeftException(file + " has " + cells.size() + " " + what + " cells (0.." + (cells.size() - 1) + "), not "
                    + index);
        }
        return cells.get(index);
    }
}
