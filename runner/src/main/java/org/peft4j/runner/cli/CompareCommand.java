package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.peft4j.runner.experiment.Comparison;
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
@Command(name = "compare", mixinStandardHelpOptions = true,
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

    private final MethodRegistries registries;
    private final Comparison comparison;

    @Inject
    CompareCommand(MethodRegistries registries, Comparison comparison) {
        this.registries = registries;
        this.comparison = comparison;
    }

    @Override
    public Integer call() {
        MethodRegistry methods = registries.forPlugins(common.pluginsDir());
        Matrix matrix = Matrix.load(file, overrides, methods);
        PrintStream out = Output.of(spec);
        Comparison.Summary summary = comparison.run(matrix, methods, new SequentialExecutor(), force, System.console() != null, out);
        out.flush();
        return summary.failed().isEmpty() ? 0 : 1;
    }
}
