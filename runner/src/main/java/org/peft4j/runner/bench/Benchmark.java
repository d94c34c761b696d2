package org.peft4j.runner.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.peft4j.api.StepContext;
import org.peft4j.runner.train.AdamW;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.TrainingStep;

/**
 * Times models on random inputs: eval forward passes of the merged model (the inference form evaluation runs and
 * users deploy: folded LoRA, MoSA's merged adapter), or full training steps (forward, the method's loss, backward,
 * hooks, AdamW) exactly as the trainer runs them. Several models are timed round-robin, one
 * iteration each in turn, so a comparison (MLAE vs LoRA) is not skewed by whichever ran first while the
 * process warmed up. Reports the median per model.
 */
public final class Benchmark {

    /**
     * Timing of one model and measure.
     *
     * @param medianHostSeconds training steps: the median time the host spent queueing work, the step's time less
     *     its waits for the device (equal to the step's time on the CPU, where ops run as they are called; far below it
     *     on a GPU that has the host's work queued ahead); NaN for forward passes
     */
    public record Timing(String what, int batch, int iterations, double medianSeconds, double imagesPerSecond,
            double medianHostSeconds) {}

    /** One timed iteration: its time and the part of it the host spent queueing work (NaN where not measured). */
    private record Sample(double seconds, double hostSeconds) {}

    /** Peak device memory of one model's training steps, in MiB, or -1 where it cannot be measured (CPU). */
    public static double peakTrainingMemoryMib(Subject subject, int steps) {
        ai.djl.Device device = subject.model.backbone().manager().getDevice();
        if (!device.isGpu()) {
            return -1;
        }
        // the caching allocator keeps what it reserved: empty it, then sample the device after every step
        ai.djl.pytorch.jni.JniUtils.emptyCudaCache();
        long base = ai.djl.util.cuda.CudaUtils.getGpuMemory(device).getUsed();
        long peak = base;
        for (int i = 0; i < steps; i++) {
            subject.trainStepOnce();
            peak = Math.max(peak, ai.djl.util.cuda.CudaUtils.getGpuMemory(device).getUsed());
        }
        return (peak - base) / (1024.0 * 1024.0);
    }

    /** One model under test. */
    public static final class Subject {
        private final PeftModel model;
        private final int imageSize;
        private final int batch;
        private TrainingStep step;
        private final Random random = new Random(0);
        private long steps;

        public Subject(PeftModel model, int imageSize, int batch) {
            this.model = model;
            this.imageSize = imageSize;
            this.batch = batch;
        }

        Sample forwardOnce() {
            try (NDManager scope = model.openScope()) {
                NDArray x = scope.randomNormal(new Shape(batch, 3, imageSize, imageSize));
                long start = System.nanoTime();
                model.logits(x, false).toFloatArray(); // toFloatArray waits for the result
                return new Sample((System.nanoTime() - start) / 1e9, Double.NaN);
            }
        }

        Sample trainStepOnce() {
            if (step == null) {
                step = new TrainingStep(model, new AdamW(model.trainable(), 1e-4, 0.9, 0.999, 1e-8, 0), 0);
            }
            try (NDManager scope = step.openScope()) {
                NDArray x = scope.randomNormal(new Shape(batch, 3, imageSize, imageSize));
                long[] y = new long[batch];
                Arrays.setAll(y, k -> random.nextInt(Math.max(1, model.backbone().numClasses())));
                NDArray labels = scope.create(y);
                StepContext context = new StepContext("bench", 0, steps, new Random(steps), scope);
                steps++;
                long start = System.nanoTime();
                TrainingStep.Outcome outcome = step.run(context, x, labels, 1e-4, loss -> "benchmark loss became " + loss);
                long queued = System.nanoTime() - start - outcome.waitNanos();
                // a step returns once its update is queued: the time ends when the device has done it too (reading a
                // value waits for all queued work), as the PyTorch reference's loss.item() after its update does
                scope.zeros(new Shape(1)).getFloat();
                return new Sample((System.nanoTime() - start) / 1e9, queued / 1e9);
            }
        }
    }

    private Benchmark() {}

    /**
     * Runs one more training step of {@code subject} under PyTorch's profiler (CPU ops; on CUDA their launch times)
     * and writes {@code <stem>.trace.json} (chrome://tracing) and {@code <stem>.ops.txt} (ops by self time) in
     * {@code dir}. Returns the table's path.
     */
    public static Path profileTrainStep(Subject subject, Path dir, String stem) {
        try {
            Files.createDirectories(dir);
            Path trace = dir.resolve(stem + ".trace.json");
            Path table = dir.resolve(stem + ".ops.txt");
            JniUtils.startProfile(false, true, false);
            try {
                subject.trainStepOnce();
            } finally {
                JniUtils.stopProfile(trace.toString());
            }
            Files.writeString(table, OpProfile.read(trace).table());
            return table;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the profile into " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Eval forward timings of every subject, merged, round-robin; unmerged again afterwards. */
    public static List<Timing> forward(List<Subject> subjects, int warmup, int iterations) {
        subjects.forEach(s -> s.model.merge());
        try {
            return roundRobin(subjects, warmup, iterations, "forward (eval)", false);
        } finally {
            subjects.forEach(s -> s.model.unmerge());
        }
    }

    /** Training-step timings of every subject, round-robin. */
    public static List<Timing> trainStep(List<Subject> subjects, int warmup, int iterations) {
        return roundRobin(subjects, warmup, iterations, "train step", true);
    }

    private static List<Timing> roundRobin(List<Subject> subjects, int warmup, int iterations, String what, boolean train) {
        double[][] seconds = new double[subjects.size()][iterations];
        double[][] hostSeconds = new double[subjects.size()][iterations];
        for (int i = -warmup; i < iterations; i++) {
            for (int s = 0; s < subjects.size(); s++) {
                Subject subject = subjects.get(s);
                Sample sample = train ? subject.trainStepOnce() : subject.forwardOnce();
                if (i >= 0) {
                    seconds[s][i] = sample.seconds();
                    hostSeconds[s][i] = sample.hostSeconds();
                }
            }
        }
        List<Timing> timings = new ArrayList<>();
        for (int s = 0; s < subjects.size(); s++) {
            double median = median(seconds[s]);
            timings.add(new Timing(what, subjects.get(s).batch, iterations, median, subjects.get(s).batch / median,
                    median(hostSeconds[s])));
        }
        return timings;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /** Seeds the engine so benchmark models are the same run to run. */
    public static void seed(long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
    }
}
