package org.peft4j.runner.cli;

import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.bench.Benchmark;
import org.peft4j.runner.config.OptionTypes;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code peft4j bench}: forward images/s per backbone, and optionally training-step time with a method. */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Measure forward images/s and training-step time on this machine.")
public final class BenchCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Option(names = "--backbone", split = ",", required = true, description = "Backbone variant(s), comma-separated.")
    List<String> backbones = new ArrayList<>();

    @Option(names = "--method", split = ",", description = "Method(s) to attach; with --train times a training step.")
    List<String> methods = new ArrayList<>();

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Method option, e.g. --set rank=8 (repeatable).")
    List<String> options = new ArrayList<>();

    @Option(names = "--train", description = "Also time full training steps (forward, backward, AdamW).")
    boolean train;

    @Option(names = "--batch", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batch = 8;

    @Option(names = "--iterations", description = "Timed iterations (default: ${DEFAULT-VALUE}).")
    int iterations = 10;

    @Option(names = "--warmup", description = "Untimed warm-up iterations (default: ${DEFAULT-VALUE}).")
    int warmup = 2;

    @Option(names = "--classes", description = "Classifier size (default: ${DEFAULT-VALUE}).")
    int classes = 100;

    private final MethodRegistries registries;
    private final BackboneRegistry registry;

    @Inject
    BenchCommand(MethodRegistries registries, BackboneRegistry registry) {
        this.registries = registries;
        this.registry = registry;
    }

    @Override
    public Integer call() {
        Args.atLeast("--batch", batch, 1);
        Args.atLeast("--iterations", iterations, 1);
        Args.atLeast("--warmup", warmup, 0);
        Args.atLeast("--classes", classes, 1);
        PrintWriter out = spec.commandLine().getOut();
        MethodRegistry methodRegistry = common.methods(registries, spec);
        List<String> runs = methods.isEmpty() ? List.of("linear") : methods;
        out.printf(Locale.ROOT, "%-32s %-12s %-16s %6s %12s %10s%n", "backbone", "method", "measure", "batch", "median ms", "img/s");
        for (String name : backbones) {
            // every method on this backbone is built first, then timed round-robin (fair comparisons)
            List<NDManager> managers = new ArrayList<>();
            try {
                List<Benchmark.Subject> subjects = new ArrayList<>();
                for (String method : runs) {
                    NDManager manager = NDManager.newBaseManager();
                    managers.add(manager);
                    Benchmark.seed(0);
                    Backbone backbone = registry.build(BackboneOptions.of(name, classes), manager);
                    Config settings = methodSettings(methodRegistry, method);
                    PeftModel model = PeftModel.assemble(backbone,
                            methodRegistry.get(method).create(new MethodContext(settings, "--set", 0, "bench", classes)));
                    subjects.add(new Benchmark.Subject(model, backbone.dataConfig().imageSize(), batch));
                }
                print(out, name, runs, Benchmark.forward(subjects, warmup, iterations));
                if (train) {
                    print(out, name, runs, Benchmark.trainStep(subjects, warmup, iterations));
                }
            } finally {
                managers.forEach(NDManager::close);
            }
        }
        return 0;
    }

    private static void print(PrintWriter out, String backbone, List<String> methods, List<Benchmark.Timing> timings) {
        for (int i = 0; i < timings.size(); i++) {
            Benchmark.Timing t = timings.get(i);
            out.printf(Locale.ROOT, "%-32s %-12s %-16s %6d %12.2f %10.1f%n", backbone, methods.get(i), t.what(), t.batch(),
                    t.medianSeconds() * 1e3, t.imagesPerSecond());
        }
        out.flush();
    }

    /** The method's defaults with the --set options, each checked to be an option of the method, of its default's type. */
    private Config methodSettings(MethodRegistry methodRegistry, String method) {
        Config user = parseOptions();
        Config defaults = methodRegistry.defaults(method);
        List<String> problems = new ArrayList<>();
        user.entrySet().forEach(e -> {
            if (!defaults.hasPathOrNull(e.getKey())) {
                problems.add("--set " + e.getKey() + ": not an option of method " + method + " (peft4j describe " + method + ")");
            } else {
                String problem = OptionTypes.problem(e.getValue(), defaults.getValue(e.getKey()));
                if (problem != null) {
                    problems.add("--set " + e.getKey() + ": " + problem);
                }
            }
        });
        PeftException.throwIfAny(problems);
        return user.withFallback(defaults).resolve();
    }

    private Config parseOptions() {
        try {
            return ConfigFactory.parseString(String.join("\n", options));
        } catch (ConfigException e) {
            throw new PeftException("cannot parse --set options " + options + ": " + e.getMessage());
        }
    }
}
