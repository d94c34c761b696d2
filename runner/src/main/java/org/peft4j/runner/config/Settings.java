package org.peft4j.runner.config;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.PeftException;

/** Typed, checked views of an experiment's config, read eagerly so that errors appear before any tensor. */
public final class Settings {

    private Settings() {}

    /** Top-level run settings. */
    public record Run(String experiment, List<Long> seeds, String device, Path output, String progress) {

        static Run from(Config c, String source) {
            List<Long> seeds = c.getLongList("seeds");
            if (seeds.isEmpty()) {
                seeds = List.of(c.getLong("seed"));
            }
            String progress = c.getString("progress");
            oneOf(source, "progress", progress, "auto", "true", "false");
            String experiment = c.getString("experiment");
            if (experiment.isBlank() || experiment.contains("/")) {
                throw new PeftException("experiment in " + source + ": must be a non-empty name without '/', got '" + experiment + "'");
            }
            return new Run(experiment, seeds, c.getString("device"), Path.of(c.getString("output")), progress);
        }
    }

    /** The backbone and its checkpoint. */
    public record Backbone(String name, Optional<Path> checkpoint, boolean strict, double dropPath, int imageSize) {

        static Backbone from(Config c, String source) {
            String checkpoint = c.getString("checkpoint");
            double dropPath = c.getDouble("drop-path");
            if (dropPath < 0 || dropPath >= 1) {
                throw new PeftException("backbone.drop-path in " + source + ": must be in [0, 1), got " + dropPath);
            }
            int size = c.getInt("image-size");
            if (size < 0) {
                throw new PeftException("backbone.image-size in " + source + ": must be >= 0, got " + size);
            }
            return new Backbone(c.getString("name"), checkpoint.isBlank() ? Optional.empty() : Optional.of(Path.of(checkpoint)),
                    c.getBoolean("strict"), dropPath, size);
        }
    }

    /** Dataset, protocol and transforms. */
    public record Data(String format, Path root, String name, String protocol, String resize, String normalize,
            String imageDir, int batchSize, int evalBatchSize) {

        static Data from(Config c, String source) {
            String where = "data.%s in " + source;
            oneOf(source, "data.format", c.getString("format"), "vtab", "fgvc");
            oneOf(source, "data.protocol", c.getString("protocol"), "final", "tune");
            oneOf(source, "data.resize", c.getString("resize"), "direct", "crop");
            oneOf(source, "data.normalize", c.getString("normalize"), "backbone", "imagenet", "inception");
            if (c.getString("name").isBlank()) {
                throw new PeftException(String.format(where, "name") + ": name the dataset folder under data.root");
            }
            int batch = c.getInt("batch-size");
            int evalBatch = c.getInt("eval-batch-size");
            if (batch <= 0 || evalBatch <= 0) {
                throw new PeftException(String.format(where, "batch-size") + ": batch sizes must be > 0");
            }
            return new Data(c.getString("format"), Path.of(c.getString("root")), c.getString("name"), c.getString("protocol"),
                    c.getString("resize"), c.getString("normalize"), c.getString("image-dir"), batch, evalBatch);
        }
    }

    /** Optimiser and schedule of the main stage. */
    public record Train(int epochs, double lr, double weightDecay, double warmupEpochs, double minLr,
            double labelSmoothing, double gradClip, double beta1, double beta2, double eps, int evalEvery) {

        static Train from(Config c, String source) {
            List<Double> betas = c.getDoubleList("betas");
            if (betas.size() != 2 || betas.stream().anyMatch(b -> b < 0 || b >= 1)) {
                throw new PeftException("train.betas in " + source + ": expected two values in [0, 1), got " + betas);
            }
            Train t = new Train(c.getInt("epochs"), c.getDouble("lr"), c.getDouble("weight-decay"), c.getDouble("warmup-epochs"),
                    c.getDouble("min-lr"), c.getDouble("label-smoothing"), c.getDouble("grad-clip"), betas.get(0), betas.get(1),
                    c.getDouble("eps"), c.getInt("eval-every"));
            check(source, "train.epochs", t.epochs >= 0, t.epochs);
            check(source, "train.lr", t.lr > 0, t.lr);
            check(source, "train.weight-decay", t.weightDecay >= 0, t.weightDecay);
            check(source, "train.warmup-epochs", t.warmupEpochs >= 0, t.warmupEpochs);
            check(source, "train.min-lr", t.minLr >= 0 && t.minLr <= t.lr, t.minLr);
            check(source, "train.label-smoothing", t.labelSmoothing >= 0 && t.labelSmoothing < 1, t.labelSmoothing);
            check(source, "train.grad-clip", t.gradClip >= 0, t.gradClip);
            check(source, "train.eps", t.eps > 0, t.eps);
            check(source, "train.eval-every", t.evalEvery >= 0, t.evalEvery);
            return t;
        }
    }

    /** Numeric precision and attention kernel; {@code precision} may be {@code auto} until the device is known. */
    public record Compute(String precision, AttentionKernel attention) {

        static Compute from(Config c, String source) {
            oneOf(source, "compute.precision", c.getString("precision"), "auto", "fp32", "tf32", "fp16");
            return new Compute(c.getString("precision"), AttentionKernel.parse(c.getString("attention"), "compute.attention in " + source));
        }
    }

    private static void check(String source, String key, boolean ok, Object value) {
        if (!ok) {
            throw new PeftException(key + " in " + source + ": value " + value + " is out of range");
        }
    }

    private static void oneOf(String source, String key, String value, String... allowed) {
        if (!List.of(allowed).contains(value)) {
            throw new PeftException(key + " in " + source + ": expected one of " + List.of(allowed) + ", got '" + value + "'");
        }
    }
}
