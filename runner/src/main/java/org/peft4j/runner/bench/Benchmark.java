package org.peft4j.runner.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Random;
import org.peft4j.api.StepContext;
import org.peft4j.runner.train.AdamW;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.TrainingStep;

/**
 * Times a model on random inputs: eval forward passes, or full training steps (forward, the method's loss,
 * backward, hooks, AdamW) exactly as the trainer runs them. Reports the median over timed iterations.
 */
public final class Benchmark {

    /** Timing of one measurement. */
    public record Timing(String what, int batch, int iterations, double medianSeconds, double imagesPerSecond) {}

    private final PeftModel model;
    private final int imageSize;
    private final int batch;
    private final int warmup;
    private final int iterations;

    public Benchmark(PeftModel model, int imageSize, int batch, int warmup, int iterations) {
        this.model = model;
        this.imageSize = imageSize;
        this.batch = batch;
        this.warmup = warmup;
        this.iterations = iterations;
    }

    public Timing forward() {
        double[] seconds = new double[iterations];
        NDManager home = model.backbone().manager();
        for (int i = -warmup; i < iterations; i++) {
            try (NDManager scope = home.newSubManager()) {
                scope.tempAttachAll(model.arrays().toArray(new NDArray[0]));
                NDArray x = scope.randomNormal(new Shape(batch, 3, imageSize, imageSize));
                long start = System.nanoTime();
                model.logits(x, false).toFloatArray(); // toFloatArray waits for the result
                if (i >= 0) {
                    seconds[i] = (System.nanoTime() - start) / 1e9;
                }
            }
        }
        return timing("forward (eval)", seconds);
    }

    public Timing trainStep() {
        AdamW optimizer = new AdamW(model.trainable(), 1e-4, 0.9, 0.999, 1e-8, 0);
        TrainingStep step = new TrainingStep(model, optimizer, 0);
        double[] seconds = new double[iterations];
        Random random = new Random(0);
        for (int i = -warmup; i < iterations; i++) {
            try (NDManager scope = step.openScope()) {
                NDArray x = scope.randomNormal(new Shape(batch, 3, imageSize, imageSize));
                long[] y = new long[batch];
                Arrays.setAll(y, k -> random.nextInt(Math.max(1, model.backbone().numClasses())));
                NDArray labels = scope.create(y);
                StepContext context = new StepContext("bench", 0, i + warmup, new Random(i), scope);
                long start = System.nanoTime();
                step.run(context, x, labels, 1e-4, loss -> "benchmark loss became " + loss);
                if (i >= 0) {
                    seconds[i] = (System.nanoTime() - start) / 1e9;
                }
            }
        }
        return timing("train step", seconds);
    }

    private Timing timing(String what, double[] seconds) {
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        return new Timing(what, batch, iterations, median, batch / median);
    }

    /** Seeds the engine so benchmark models are the same run to run. */
    public static void seed(long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
    }

}
