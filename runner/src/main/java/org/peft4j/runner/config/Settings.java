package org.peft4j.runner.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.PeftException;
import org.peft4j.runner.Devices;

/**
 * Typed, checked views of an experiment's config, read eagerly so that errors appear before any tensor. Every
 * check adds to {@link Problems} instead of stopping at the first, so a file's problems are reported together.
 */
public final class Settings {

    private Settings() {}

    /** Top-level run settings. */
    public record Run(String experiment, List<Long> seeds, String device, Path output, String progress) {

        static Run from(Config c, Problems p) {
            List<Long> seeds = new ArrayList<>();
            List<Number> listed = read(p, "seeds", () -> c.getNumberList("seeds"), List.of());
            for (Number n : listed) {
                if (n.doubleValue() != Math.rint(n.doubleValue())) {
                    p.add("seeds", "seeds are whole numbers, got " + n);
                }
                seeds.add(n.longValue());
            }
            if (seeds.isEmpty()) {
                seeds.add(read(p, "seed", () -> c.getLong("seed"), 0L));
            }
            String progress = c.getString("progress");
            oneOf(p, "progress", progress, "auto", "true", "false");
            String experiment = c.getString("experiment");
            if (experiment.isBlank() || experiment.contains("/")) {
                p.add("experiment", "must be a non-empty name without '/', got '" + experiment + "'");
            }
            String device = c.getString("device");
            String deviceProblem = Devices.syntaxProblem(device);
            if (deviceProblem != null) {
                p.add("device", deviceProblem);
            }
            return new Run(experiment, seeds, device, Path.of(c.getString("output")), progress);
        }
    }

    /** The backbone and its checkpoint. */
    public record Backbone(String name, Optional<Path> checkpoint, boolean strict, double dropPath, int imageSize) {

        static Backbone from(Config c, Problems p) {
            String checkpoint = c.getString("checkpoint");
            double dropPath = read(p, "backbone.drop-path", () -> c.getDouble("drop-path"), 0.0);
            check(p, "backbone.drop-path", dropPath >= 0 && dropPath < 1, "must be in [0, 1), got " + dropPath);
            int size = read(p, "backbone.image-size", () -> c.getInt("image-size"), 0);
            check(p, "backbone.image-size", size >= 0, "must be >= 0 (0 = the variant's default), got " + size);
            return new Backbone(c.getString("name"), checkpoint.isBlank() ? Optional.empty() : Optional.of(Path.of(checkpoint)),
                    read(p, "backbone.strict", () -> c.getBoolean("strict"), true), dropPath, size);
        }
    }

    /** Dataset, protocol and transforms. */
    public record Data(String format, Path root, String name, String protocol, String resize, String normalize,
            String imageDir, int batchSize, int evalBatchSize, int numClasses, long cacheMb) {

        /** {@code data.cache-mb = auto}. */
        public static final long AUTO_CACHE = -1;

        /** The {@code data} block alone (tests); problems are thrown at once. */
        public static Data from(Config c, String source) {
            Problems p = new Problems(source);
            Config full = c.atPath("data");
            p.describing(full);
            Data data = from(full, p);
            p.throwIfAny();
            return data;
        }

        /** {@code c} holds the whole experiment (keys {@code data.*}). */
        static Data from(Config all, Problems p) {
            Config c = all.getConfig("data");
            oneOf(p, "data.format", c.getString("format"), "vtab", "fgvc");
            oneOf(p, "data.protocol", c.getString("protocol"), "final", "tune");
            oneOf(p, "data.resize", c.getString("resize"), "direct", "crop");
            oneOf(p, "data.normalize", c.getString("normalize"), "backbone", "imagenet", "inception");
            if (c.getString("name").isBlank()) {
                p.add("data.name", "name the dataset folder under data.root");
            }
            int batch = read(p, "data.batch-size", () -> c.getInt("batch-size"), 1);
            check(p, "data.batch-size", batch > 0, "must be > 0, got " + batch);
            int evalBatch = read(p, "data.eval-batch-size", () -> c.getInt("eval-batch-size"), 1);
            check(p, "data.eval-batch-size", evalBatch > 0, "must be > 0, got " + evalBatch);
            int numClasses = read(p, "data.num-classes", () -> c.getInt("num-classes"), 0);
            check(p, "data.num-classes", numClasses >= 0, "must be >= 0 (0 = the training split's labels), got " + numClasses);
            return new Data(c.getString("format"), Path.of(c.getString("root")), c.getString("name"), c.getString("protocol"),
                    c.getString("resize"), c.getString("normalize"), c.getString("image-dir"), batch, evalBatch, numClasses,
                    cacheMb(c, p));
        }

        /** {@code data.cache-mb}: auto or MB >= 0, and below this JVM's heap. */
        private static long cacheMb(Config c, Problems p) {
            String raw = c.getValue("cache-mb").unwrapped().toString().strip();
            if (raw.equals("auto")) {
                return AUTO_CACHE;
            }
            long mb;
            try {
                mb = Long.parseLong(raw);
            } catch (NumberFormatException e) {
                p.add("data.cache-mb", "expected auto or a whole number of MB, got '" + raw + "'");
                return AUTO_CACHE;
            }
            long heapMb = Runtime.getRuntime().maxMemory() >> 20;
            check(p, "data.cache-mb", mb >= 0 && mb < heapMb, mb + " MB must be >= 0 and below this JVM's heap (" + heapMb
                    + " MB, java -Xmx): use auto or start java with a larger -Xmx");
            return mb;
        }
    }

    /** Optimiser and schedule of the main stage. */
    public record Train(int epochs, double lr, double weightDecay, double warmupEpochs, double minLr,
            double labelSmoothing, double gradClip, double beta1, double beta2, double eps, int evalEvery) {

        static Train from(Config all, Problems p) {
            Config c = all.getConfig("train");
            List<Double> betas = read(p, "train.betas", () -> c.getDoubleList("betas"), List.of(0.9, 0.999));
            if (betas.size() != 2 || betas.stream().anyMatch(b -> b < 0 || b >= 1)) {
                check(p, "train.betas", false, "expected two values in [0, 1), got " + betas);
                betas = List.of(0.9, 0.999);
            }
            Train t = new Train(read(p, "train.epochs", () -> c.getInt("epochs"), 0),
                    read(p, "train.lr", () -> c.getDouble("lr"), 1.0),
                    read(p, "train.weight-decay", () -> c.getDouble("weight-decay"), 0.0),
                    read(p, "train.warmup-epochs", () -> c.getDouble("warmup-epochs"), 0.0),
                    read(p, "train.min-lr", () -> c.getDouble("min-lr"), 0.0),
                    read(p, "train.label-smoothing", () -> c.getDouble("label-smoothing"), 0.0),
                    read(p, "train.grad-clip", () -> c.getDouble("grad-clip"), 0.0), betas.get(0), betas.get(1),
                    read(p, "train.eps", () -> c.getDouble("eps"), 1.0),
                    read(p, "train.eval-every", () -> c.getInt("eval-every"), 0));
            check(p, "train.epochs", t.epochs >= 0, "must be >= 0, got " + t.epochs);
            check(p, "train.lr", t.lr > 0, "must be > 0, got " + t.lr);
            check(p, "train.weight-decay", t.weightDecay >= 0, "must be >= 0, got " + t.weightDecay);
            check(p, "train.warmup-epochs", t.warmupEpochs >= 0, "must be >= 0, got " + t.warmupEpochs);
            if (!p.affects("train.lr")) { // compared with lr only when lr itself is sound
                check(p, "train.min-lr", t.minLr >= 0 && t.minLr <= t.lr, "must be in [0, train.lr = " + t.lr + "], got " + t.minLr);
            }
            check(p, "train.label-smoothing", t.labelSmoothing >= 0 && t.labelSmoothing < 1, "must be in [0, 1), got "
                    + t.labelSmoothing);
            check(p, "train.grad-clip", t.gradClip >= 0, "must be >= 0 (0 = off), got " + t.gradClip);
            check(p, "train.eps", t.eps > 0, "must be > 0, got " + t.eps);
            check(p, "train.eval-every", t.evalEvery >= 0, "must be >= 0 (0 = only at the end), got " + t.evalEvery);
            return t;
        }
    }

    /** Numeric precision and attention kernel; {@code precision} may be {@code auto} until the device is known. */
    public record Compute(String precision, AttentionKernel attention) {

        /** {@code c} is the {@code compute} block of a checked experiment. */
        static Compute from(Config c, String source) {
            return new Compute(c.getString("precision"), AttentionKernel.parse(c.getString("attention"), "compute.attention in " + source));
        }

        /** {@code all} holds the whole experiment (keys {@code compute.*}). */
        static void from(Config all, Problems p) {
            Config c = all.getConfig("compute");
            oneOf(p, "compute.precision", c.getString("precision"), "auto", "fp32", "tf32", "fp16");
            try {
                AttentionKernel.parse(c.getString("attention"), "compute.attention in " + p.where("compute.attention"));
            } catch (PeftException e) {
                p.addFor("compute.attention", e.getMessage());
            }
        }
    }

    /**
     * A value read with its type already checked against reference.conf ({@link OptionTypes}); should reading still
     * fail (e.g. an int out of range), the problem is recorded and {@code fallback} lets the other checks go on.
     */
    static <T> T read(Problems p, String key, Supplier<T> reader, T fallback) {
        if (p.affects(key)) {
            return fallback; // reported already
        }
        try {
            return reader.get();
        } catch (ConfigException e) {
            p.add(key, e.getMessage().replaceFirst("^.*?: \\d+: ", ""));
            return fallback;
        }
    }

    private static void check(Problems p, String key, boolean ok, String message) {
        if (!ok && !p.affects(key)) {
            p.add(key, message);
        }
    }

    private static void oneOf(Problems p, String key, String value, String... allowed) {
        if (!List.of(allowed).contains(value)) {
            p.add(key, "expected one of " + List.of(allowed) + ", got '" + value + "'");
        }
    }
}
