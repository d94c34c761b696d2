package org.peft4j.runner.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.Precision;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.Devices;
import org.peft4j.runner.bench.Benchmark;
import org.peft4j.runner.config.OptionTypes;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.Tf32;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code peft4j bench}: forward images/s per backbone, optionally training steps with methods, for every precision x
 * attention kernel asked for; methods of one (backbone, precision, kernel) are timed round-robin, and each is
 * given as a ratio to the first method's time too (MLAE / LoRA). Peak GPU memory of training steps where CUDA.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = {"Measure forward images/s and training-step time on this machine.",
        "Example (the README's GPU figures): bench --backbone vit_base_patch16_224 --method lora,mlae --train --batch 64 "
                + "--precision fp16 --attention sdpa,math --csv bench.csv"})
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

    @Option(names = "--precision", split = ",", description = "fp32, tf32, fp16 or auto (tf32 on CUDA, fp32 on CPU), "
            + "comma-separated (default: ${DEFAULT-VALUE}). fp32 and tf32 on CUDA need different environments: one per run.")
    List<String> precisions = new ArrayList<>(List.of("auto"));

    @Option(names = "--attention", split = ",", description = "sdpa, math, comma-separated (default: ${DEFAULT-VALUE}).")
    List<String> kernels = new ArrayList<>(List.of("sdpa"));

    @Option(names = "--device", description = "cpu, gpu, gpu<n>, or auto: DJL's default, a GPU if there is one (default: ${DEFAULT-VALUE}).")
    String device = "auto";

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the rows as CSV.")
    Path csv;

    @Option(names = "--profile", paramLabel = "DIR", description = "After timing, profile one more training step per "
            + "model with PyTorch's profiler: a chrome://tracing file and a table of the ops' self time per model in DIR.")
    Path profile;

    private final MethodRegistries registries;
    private final BackboneRegistry registry;

    @Inject
    BenchCommand(MethodRegistries registries, BackboneRegistry registry) {
        this.registries = registries;
        this.registry = registry;
    }

    @Override
    public Integer call() throws IOException {
        Args.atLeast("--batch", batch, 1);
        Args.atLeast("--iterations", iterations, 1);
        Args.atLeast("--warmup", warmup, 0);
        Args.atLeast("--classes", classes, 1);
        if (profile != null && !train) {
            throw new PeftException("--profile profiles a training step: add --train");
        }
        PrintWriter out = spec.commandLine().getOut();
        MethodRegistry methodRegistry = common.methods(registries, spec);
        List<String> runs = methods.isEmpty() ? List.of("linear") : methods;
        Device target = device.equals("auto") ? Engine.getInstance().defaultDevice() : parseDevice(device);
        List<Precision> precisionList = new ArrayList<>();
        for (String p : precisions) {
            Precision precision = Precision.parse(p, target, "--precision");
            Tf32.requireFor(precision, target);
            precisionList.add(precision);
        }
        List<AttentionKernel> kernelList = kernels.stream().map(k -> AttentionKernel.parse(k, "--attention")).toList();
        List<String> rows = new ArrayList<>();
        rows.add("backbone,method,precision,attention,measure,batch,iterations,median_ms,host_ms,images_per_s,"
                + "vs_first_method,peak_gpu_mib,device,engine");
        out.printf(Locale.ROOT, "%s, PyTorch %s%n", target, Engine.getInstance().getVersion());
        out.printf(Locale.ROOT, "%-28s %-10s %-5s %-5s %-14s %5s %10s %9s %9s %7s %9s%n", "backbone", "method", "prec", "attn",
                "measure", "batch", "median ms", "host ms", "img/s", "x first", "peak MiB");
        for (String name : backbones) {
            for (Precision precision : precisionList) {
                for (AttentionKernel kernel : kernelList) {
                    bench(out, rows, methodRegistry, runs, name, precision, kernel, target);
                }
            }
        }
        if (csv != null) {
            Files.write(csv, rows);
            out.println("wrote " + csv);
        }
        return 0;
    }

    /** Every method on one backbone, precision and kernel: built first, then timed round-robin (fair comparisons). */
    private void bench(PrintWriter out, List<String> rows, MethodRegistry methodRegistry, List<String> runs, String name,
            Precision precision, AttentionKernel kernel, Device target) {
        List<NDManager> managers = new ArrayList<>();
        try {
            List<Benchmark.Subject> subjects = new ArrayList<>();
            for (String method : runs) {
                NDManager manager = NDManager.newBaseManager(target);
                managers.add(manager);
                Benchmark.seed(0);
                Backbone backbone = registry.build(BackboneOptions.of(name, classes).withAttention(kernel), manager);
                Config settings = methodSettings(methodRegistry, method);
                PeftModel model = PeftModel.assemble(backbone,
                        methodRegistry.get(method).create(new MethodContext(settings, "--set", 0, "bench", classes)))
                        .usePrecision(precision);
                subjects.add(new Benchmark.Subject(model, backbone.dataConfig().imageSize(), batch));
            }
            Row group = new Row(name, precision, kernel, target);
            print(out, rows, group, runs, Benchmark.forward(subjects, warmup, iterations), null);
            if (train) {
                List<Benchmark.Timing> timings = Benchmark.trainStep(subjects, warmup, iterations);
                double[] peaks = subjects.stream().mapToDouble(s -> Benchmark.peakTrainingMemoryMib(s, Math.max(2, warmup))).toArray();
                print(out, rows, group, runs, timings, peaks);
                if (profile != null) {
                    for (int i = 0; i < subjects.size(); i++) {
                        String stem = String.join("-", name, runs.get(i), precision.id(), kernel.id());
                        out.println("profiled " + Benchmark.profileTrainStep(subjects.get(i), profile, stem));
                    }
                }
            }
        } finally {
            managers.forEach(NDManager::close);
        }
    }

    /** What one group of rows shares. */
    private record Row(String backbone, Precision precision, AttentionKernel kernel, Device device) {}

    private static void print(PrintWriter out, List<String> rows, Row group, List<String> methods, List<Benchmark.Timing> timings,
            double[] peaks) {
        double first = timings.get(0).medianSeconds();
        for (int i = 0; i < timings.size(); i++) {
            Benchmark.Timing t = timings.get(i);
            double ratio = t.medianSeconds() / first;
            String peak = peaks == null || peaks[i] < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f", peaks[i]);
            String host = Double.isNaN(t.medianHostSeconds()) ? "n/a"
                    : String.format(Locale.ROOT, "%.2f", t.medianHostSeconds() * 1e3);
            out.printf(Locale.ROOT, "%-28s %-10s %-5s %-5s %-14s %5d %10.2f %9s %9.1f %7.3f %9s%n", group.backbone(), methods.get(i),
                    group.precision().id(), group.kernel().id(), t.what(), t.batch(), t.medianSeconds() * 1e3, host,
                    t.imagesPerSecond(), ratio, peak);
            rows.add(String.join(",", group.backbone(), methods.get(i), group.precision().id(), group.kernel().id(),
                    t.what().replace(' ', '_').replace("(", "").replace(")", ""), Integer.toString(t.batch()),
                    Integer.toString(t.iterations()), String.format(Locale.ROOT, "%.3f", t.medianSeconds() * 1e3), host,
                    String.format(Locale.ROOT, "%.1f", t.imagesPerSecond()), String.format(Locale.ROOT, "%.4f", ratio),
                    peak, group.device().toString(), "PyTorch " + Engine.getInstance().getVersion()));
        }
        out.flush();
    }

    /** The --device asked for, checked against this machine (one line if it has no such GPU). */
    private static Device parseDevice(String name) {
        try {
            return Devices.resolve(name);
        } catch (PeftException e) {
            throw new PeftException("--" + e.getMessage());
        }
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
