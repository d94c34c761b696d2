package org.peft4j.runner.pretrain;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.DataConfig;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.config.Settings;
import org.peft4j.runner.data.Idx;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.Resampler;
import org.peft4j.runner.data.Transform;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.BackboneCheckpoint;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.train.EpochStats;
import org.peft4j.runner.train.Evaluator;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.ProgressObserver;
import org.peft4j.runner.train.Trainer;

/**
 * Self-supervised pretraining of a whole backbone by rotation prediction ({@link Rotations}) on the unlabeled
 * images of an IDX file, with the runner's own training loop ({@link Trainer}, method {@code full}). Writes the
 * backbone (without the rotation classifier) as a timm-format safetensors checkpoint and, next to it, a
 * {@code .json} sidecar saying how it was made. The same options and seed give the same checkpoint.
 *
 * <p>Images are read in file order: the first {@code limit} train, the next {@code validation} measure the
 * rotation accuracy. Grayscale is copied to RGB, resized (bicubic, as the image-folder pipeline does) to the
 * backbone's input size and normalised with its mean / std, as a downstream run of the same backbone does.
 */
public final class RotationPretraining {

    /**
     * What to pretrain and how.
     *
     * @param limit training images (the first ones of the file); 0 = every image not held out for validation
     * @param validation images after the training ones on which rotation accuracy is measured (0 = none)
     * @param warmupEpochs linear warmup, then cosine decay per step
     * @param gradClip global gradient-norm clip (0 = off)
     */
    public record Options(String backbone, Path images, int limit, int validation, int epochs, double lr, double weightDecay,
            double warmupEpochs, double gradClip, int batchSize, long seed, Path output) {

        void validate() {
            check(limit >= 0, "--limit", limit, ">= 0 (0 = all images)");
            check(validation >= 0, "--val", validation, ">= 0");
            check(epochs > 0, "--epochs", epochs, "> 0");
            check(lr > 0, "--lr", lr, "> 0");
            check(weightDecay >= 0, "--weight-decay", weightDecay, ">= 0");
            check(warmupEpochs >= 0 && warmupEpochs <= epochs, "--warmup-epochs", warmupEpochs, "in [0, --epochs]");
            check(gradClip >= 0, "--grad-clip", gradClip, ">= 0 (0 = off)");
            check(batchSize > 0 && batchSize % Rotations.CLASSES == 0, "--batch-size", batchSize,
                    "a positive multiple of 4 (the four rotations of an image share a batch)");
            if (!output.getFileName().toString().endsWith(".safetensors")) {
                throw new PeftException("--output " + output + ": the checkpoint must be a .safetensors file");
            }
        }

        private static void check(boolean ok, String option, Object value, String expected) {
            if (!ok) {
                throw new PeftException(option + " " + value + ": must be " + expected);
            }
        }

        /** The command line that reproduces this run. */
        public String command() {
            return "peft4j pretrain --backbone " + backbone + " --images " + images + " --limit " + limit + " --val " + validation
                    + " --epochs " + epochs + " --lr " + lr + " --weight-decay " + weightDecay + " --warmup-epochs " + warmupEpochs
                    + " --grad-clip " + gradClip + " --batch-size " + batchSize + " --seed " + seed + " --output " + output;
        }
    }

    /**
     * What a run did.
     *
     * @param before rotation accuracy and loss on the validation images before training (null without validation)
     * @param after the same after training (null without validation)
     */
    public record Result(Path checkpoint, Path sidecar, int tensors, long parameters, int trainImages, int validationImages,
            List<EpochStats> history, Evaluator.Result before, Evaluator.Result after) {}

    private static final int EVAL_BATCH = 256;

    private final BackboneRegistry backbones;

    @Inject
    public RotationPretraining(BackboneRegistry backbones) {
        this.backbones = backbones;
    }

    /** The sidecar of a checkpoint: {@code x.safetensors} -> {@code x.json}. */
    public static Path sidecar(Path checkpoint) {
        String name = checkpoint.getFileName().toString();
        return checkpoint.resolveSibling(name.substring(0, name.length() - ".safetensors".length()) + ".json");
    }

    /**
     * Runs the pretraining; {@code methods} supplies {@code full}. Progress goes to {@code out} (a bar per
     * epoch if {@code progressBar}, else one line per epoch).
     */
    public Result run(Options o, MethodRegistry methods, PrintWriter out, boolean progressBar) {
        o.validate();
        backbones.providerOf(o.backbone()); // an unknown name fails before the images are read
        Idx.Images idx = Idx.readImages(o.images(), o.limit() == 0 ? 0 : o.limit() + o.validation());
        int trainCount = o.limit() == 0 ? idx.count() - o.validation() : o.limit();
        if (trainCount <= 0 || idx.count() < trainCount + o.validation()) {
            throw new PeftException(o.images() + " holds " + idx.total() + " images; --limit " + o.limit() + " and --val "
                    + o.validation() + " need " + (o.limit() == 0 ? "more than " + o.validation() : trainCount + o.validation()));
        }
        Engine.getInstance().setRandomSeed((int) o.seed());
        try (NDManager manager = NDManager.newBaseManager()) {
            Backbone backbone = backbones.build(new BackboneOptions(o.backbone(), Rotations.CLASSES, 0, 0.0, 3), manager);
            DataConfig data = backbone.dataConfig();
            Transform transform = new Transform("direct", data.imageSize(), data.mean(), data.std());
            List<byte[]> rgb = resized(idx, transform.cacheSize());
            ImageSet train = Rotations.task("rotation-train", rgb.subList(0, trainCount), transform);
            ImageSet val = o.validation() == 0 ? null
                    : Rotations.task("rotation-val", rgb.subList(trainCount, trainCount + o.validation()), transform);
            rgb.clear();

            PeftModel model = PeftModel.assemble(backbone, methods.get("full").create(
                    new MethodContext(methods.defaults("full"), "pretrain", o.seed(), "rotation", Rotations.CLASSES)));
            long parameters = model.trainableBackboneParameters();
            Settings.Train settings = new Settings.Train(o.epochs(), o.lr(), o.weightDecay(), o.warmupEpochs(), 0.0, 0.0,
                    o.gradClip(), 0.9, 0.999, 1e-8, val == null ? 0 : 1);
            out.printf(Locale.ROOT, "rotation pretraining of %s (all %,d backbone parameters) on %s: %,d images x 4 rotations,"
                    + " %,d held out; %d px, batch %d, %d epochs, lr %.2e%n", o.backbone(), parameters, o.images().getFileName(),
                    trainCount, o.validation(), data.imageSize(), o.batchSize(), o.epochs(), o.lr());
            Evaluator.Result before = val == null ? null : Evaluator.evaluate(model, val, EVAL_BATCH);
            if (before != null) {
                out.printf(Locale.ROOT, "before training: rotation-val loss %.4f acc %.2f%%%n", before.loss(), 100 * before.accuracy());
            }
            Trainer trainer = new Trainer(model, settings, o.batchSize(), EVAL_BATCH, o.seed(), new ProgressObserver(progressBar, out),
                    stats -> {});
            List<EpochStats> history = trainer.fit(train, val, model.tuner().plan(Trainer.basePlan(settings)));
            Evaluator.Result after = val == null ? null : Evaluator.evaluate(model, val, EVAL_BATCH);
            if (after != null) {
                out.printf(Locale.ROOT, "after training: rotation-val loss %.4f acc %.2f%%%n", after.loss(), 100 * after.accuracy());
            }

            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("peft4j.backbone", o.backbone());
            metadata.put("peft4j.pretraining", "rotation prediction (Gidaris et al. 2018), see the .json sidecar");
            int tensors = BackboneCheckpoint.write(o.output(), backbone, false, 3, metadata);
            Path sidecar = sidecar(o.output());
            Result result = new Result(o.output(), sidecar, tensors, parameters, trainCount, o.validation(), history, before, after);
            writeSidecar(sidecar, o, idx, data, result);
            out.printf("wrote %s (%d tensors, no classifier) and %s%n", o.output(), tensors, sidecar);
            return result;
        }
    }

    /** Every image as RGB at {@code size} x {@code size}. */
    private static List<byte[]> resized(Idx.Images idx, int size) {
        byte[][] out = new byte[idx.count()][];
        IntStream.range(0, idx.count()).parallel().forEach(i -> out[i] = Resampler.resize(idx.rgb(i), idx.rows(), idx.cols(), size, size));
        return new ArrayList<>(List.of(out));
    }

    private static void writeSidecar(Path file, Options o, Idx.Images idx, DataConfig data, Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("checkpoint", r.checkpoint().getFileName().toString());
        m.put("backbone", o.backbone());
        m.put("task", "self-supervised rotation prediction (Gidaris et al. 2018): each image rotated by 0, 90, 180, 270 degrees"
                + " counter-clockwise, 4-way classification, the four rotations of an image in the same batch;"
                + " no labels of the images are used");
        m.put("contents", r.tensors() + " backbone tensors in timm's key format (patch_embed.proj.weight 4-D);"
                + " the rotation classifier is not saved");
        m.put("command", o.command());
        Map<String, Object> images = new LinkedHashMap<>();
        images.put("file", o.images().getFileName().toString());
        images.put("sha256", sha256(o.images()));
        images.put("images_in_file", idx.total());
        images.put("train", "images 0.." + (r.trainImages() - 1) + " (" + r.trainImages() + ")");
        images.put("validation", r.validationImages() == 0 ? "none"
                : "images " + r.trainImages() + ".." + (r.trainImages() + r.validationImages() - 1) + " (" + r.validationImages() + ")");
        images.put("preprocessing", idx.rows() + "x" + idx.cols() + " grayscale copied to RGB, bicubic resize to " + data.imageSize()
                + "x" + data.imageSize() + ", normalised with mean " + floats(data.mean()) + " std " + floats(data.std()));
        m.put("images", images);
        Map<String, Object> training = new LinkedHashMap<>();
        training.put("method", "full (every backbone parameter trains)");
        training.put("epochs", o.epochs());
        training.put("batch_size", o.batchSize());
        training.put("optimizer", "AdamW, betas 0.9 / 0.999, eps 1e-8");
        training.put("lr", o.lr());
        training.put("weight_decay", o.weightDecay());
        training.put("schedule", "linear warmup " + o.warmupEpochs() + " epochs, cosine to 0 per step");
        training.put("grad_clip", o.gradClip());
        training.put("seed", o.seed());
        m.put("training", training);
        List<Map<String, Object>> epochs = new ArrayList<>();
        for (int i = 0; i < r.history().size(); i++) {
            EpochStats s = r.history().get(i);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("epoch", s.epoch() + 1);
            e.put("train_loss", round(s.loss()));
            e.put("train_accuracy", round(s.accuracy()));
            Evaluator.Result eval = i == r.history().size() - 1 ? r.after() : s.eval();
            if (eval != null) {
                e.put("validation_loss", round(eval.loss()));
                e.put("validation_accuracy", round(eval.accuracy()));
            }
            epochs.add(e);
        }
        m.put("epochs", epochs);
        if (r.before() != null) {
            m.put("validation_before_training", Map.of("loss", round(r.before().loss()), "accuracy", round(r.before().accuracy())));
        }
        m.put("parameters", r.parameters());
        try {
            AtomicFiles.writeString(file, Json.render(m));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    private static String floats(float[] v) {
        List<String> parts = new ArrayList<>();
        for (float f : v) {
            parts.add(Float.toString(f));
        }
        return "[" + String.join(", ", parts) + "]";
    }

    private static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
