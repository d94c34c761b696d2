package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import java.util.Random;
import org.peft4j.runner.data.BatchStream;
import org.peft4j.runner.data.HostBatch;
import org.peft4j.runner.data.ImageSet;

/** Top-1 accuracy of the merged model (the inference form users deploy), unmerged again afterwards. */
public final class Evaluator {

    /** Accuracy and mean loss on a split. */
    public record Result(String split, int images, double accuracy, double loss) {}

    /** Receives each image's prediction: its index in the split, true label, predicted class and softmax confidence. */
    @FunctionalInterface
    public interface Predictions {
        void accept(int index, int label, int predicted, float confidence);
    }

    private Evaluator() {}

    /** Streams the set through the merged model: batches are decoded ahead while the model computes, none is kept. */
    public static Result evaluate(PeftModel model, ImageSet set, int batchSize) {
        return evaluate(model, set, batchSize, null, null);
    }

    /**
     * @param predictions receives every image's prediction (null: none)
     * @param observer shows the progress (null: none)
     */
    public static Result evaluate(PeftModel model, ImageSet set, int batchSize, Predictions predictions, StepObserver observer) {
        StepObserver progress = observer != null ? observer : new StepObserver() {};
        progress.evaluating(set.name(), 0, set.size());
        int done = 0;
        model.merge();
        List<int[]> order = ImageSet.inOrder(set.size(), batchSize);
        try (BatchStream batches = set.stream(order, false, b -> new Random(0))) {
            long correct = 0;
            double lossSum = 0;
            for (int b = 0; batches.hasNext(); b++) {
                HostBatch host = batches.next();
                int[] indices = order.get(b);
                try (NDManager scope = model.openScope()) {
                    NDList batch = host.toNDList(scope);
                    NDArray logits = model.logits(batch.get(0), false);
                    NDArray labels = batch.get(1);
                    NDArray predicted = logits.argMax(-1);
                    correct += predicted.eq(labels).toType(DataType.INT64, false).sum().getLong();
                    lossSum += Losses.crossEntropy(logits, labels, 0).getFloat() * indices.length;
                    done += indices.length;
                    progress.evaluating(set.name(), done, set.size());
                    if (predictions != null) {
                        long[] p = predicted.toLongArray();
                        long[] y = labels.toType(DataType.INT64, false).toLongArray();
                        float[] confidence = logits.softmax(-1).max(new int[] {-1}).toFloatArray();
                        for (int i = 0; i < indices.length; i++) {
                            predictions.accept(indices[i], (int) y[i], (int) p[i], confidence[i]);
                        }
                    }
                }
            }
            return new Result(set.name(), set.size(), (double) correct / set.size(), lossSum / set.size());
        } finally {
            model.unmerge();
        }
    }
}
