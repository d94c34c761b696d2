package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.ExperimentRunner;
import org.peft4j.runner.Preflight;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.ExperimentLoader;
import org.peft4j.runner.experiment.CellRunner;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code peft4j run experiment.conf}: train and evaluate, write the results folder. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Run an experiment file (HOCON): train and evaluate each seed; finished runs are skipped, stopped ones resume.")
public final class RunCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "EXPERIMENT", description = "The experiment file.")
    Path file;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting, e.g. --set train.epochs=5 (repeatable).")
    List<String> overrides = new ArrayList<>();

    @Option(names = "--force", description = "Rerun finished runs (their folders are replaced).")
    boolean force;

    private final MethodRegistries registries;
    private final ExperimentRunner runner;
    private final BackboneRegistry backbones;

    @Inject
    RunCommand(MethodRegistries registries, ExperimentRunner runner, BackboneRegistry backbones) {
        this.registries = registries;
        this.runner = runner;
        this.backbones = backbones;
    }

    @Override
    public Integer call() {
        MethodRegistry methods = common.methods(registries, spec);
        ExperimentLoader.Validation validation = new ExperimentLoader(methods).validate(file, overrides);
        if (!validation.problems().isEmpty()) {
            Preflight.check(validation, methods, backbones); // the config's problems and all else checkable, together
        }
        Experiment experiment = validation.experiment();
        PrintWriter out = spec.commandLine().getOut();
        List<CellRunner.Outcome> results = runner.run(experiment, methods, force, out);
        if (results.size() > 1) {
            double mean = results.stream().mapToDouble(CellRunner.Outcome::accuracy).average().orElse(0);
            double var = results.stream().mapToDouble(r -> (r.accuracy() - mean) * (r.accuracy() - mean)).sum() / (results.size() - 1);
            out.printf(Locale.ROOT, "mean accuracy over %d seeds: %.2f%% +- %.2f%n", results.size(), 100 * mean, 100 * Math.sqrt(var));
        }
        out.flush();
        return 0;
    }
}
