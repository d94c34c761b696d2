package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.experiment.ChildCommand;
import org.peft4j.runner.experiment.Comparison;
import org.peft4j.runner.experiment.Executor;
import org.peft4j.runner.experiment.LocalParallelExecutor;
import org.peft4j.runner.experiment.SlurmSubmitter;
import org.peft4j.runner.experiment.Matrix;
import org.peft4j.runner.experiment.SequentialExecutor;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.registry.MethodRegistries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code peft4j compare file.conf}: methods x datasets x sweep points x seeds with the VTAB/FGVC protocol, then the report. */
@Command(name = "compare", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = {"Run a comparison: every method on every dataset, sweep points chosen on the validation split, "
                + "the chosen point retrained with every seed and tested; then write the report.",
                "Finished runs are skipped, stopped ones resume: run the same command again to finish a comparison."})
public final class CompareCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE", description = "The comparison file (an experiment file with a compare block).")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting, e.g. --set train.epochs=5 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--force", description = "Rerun finished runs (their folders are replaced).")
    boolean force;

    @Option(names = "--executor", paramLabel = "KIND", description = "sequential (default: in this process), local (--parallel "
            + "child processes on this machine) or slurm (two job arrays, settings in executor.slurm).")
    String executor = "sequential";

    @Option(names = "--parallel", paramLabel = "N", description = "local: run N cells at once, on gpu0..gpuN-1 with --gpus, "
            + "else as N CPU processes (default: ${DEFAULT-VALUE}).")
    int parallel = 2;

    @Option(names = "--gpus", description = "local: give each parallel cell its own GPU.")
    boolean gpus;

    @Option(names = "--dry-run", description = "slurm: print the cell list and the sbatch scripts without submitting.")
    boolean dryRun;

    @Option(names = "--retry-failed", description = "slurm: submit only the cells that failed or stopped (and final cells "
            + "that waited on them).")
    boolean retryFailed;

    private final MethodRegistries registries;
    private final Comparison comparison;
    private final BackboneRegistry backbones;

    @Inject
    CompareCommand(MethodRegistries registries, Comparison comparison, BackboneRegistry backbones) {
        this.registries = registries;
        this.comparison = comparison;
        this.backbones = backbones;
    }

    @Override
    public Integer call() {
        MethodRegistry methods = registries.forPlugins(common.pluginsDir());
        Matrix matrix = Matrix.load(file, overrides, methods);
        matrix.preflight(backbones); // data, labels, images, methods, checkpoint, device: all problems before any run
        PrintWriter out = spec.commandLine().getOut();
        if ((dryRun || retryFailed) && !executor.equals("slurm")) {
            throw new PeftException("--dry-run and --retry-failed go with --executor slurm (a local comparison started again "
                    + "reruns what did not finish)");
        }
        Executor cells = switch (executor) {
            case "sequential" -> new SequentialExecutor();
            case "local" -> {
                if (parallel < 1) {
                    throw new PeftException("--parallel must be >= 1, got " + parallel);
                }
                Path folder = matrix.output().resolve(matrix.experiment());
                yield new LocalParallelExecutor(LocalParallelExecutor.devices(parallel, gpus), ChildCommand.words(null),
                        folder.resolve(Comparison.MATRIX_FILE), folder.resolve("logs"), force);
            }
            case "slurm" -> {
                new SlurmSubmitter().submit(matrix, retryFailed, dryRun, out);
                out.flush();
                yield null;
            }
            default -> throw new PeftException("--executor must be sequential, local or slurm, got '" + executor + "'");
        };
        if (cells == null) {
            return 0;
        }
        Comparison.Summary summary = comparison.run(matrix, methods, cells, force, System.console() != null, out);
        out.flush();
        return summary.failed().isEmpty() ? 0 : 1;
    }
}
