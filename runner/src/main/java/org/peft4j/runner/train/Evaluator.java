package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Random;
import org.peft4j.runner.data.ImageSet;

/** Top-1 accuracy of the merged model (the inference form users deploy), unmerged again afterwards. */
public final class Evaluator {

    /** Accuracy and mean loss on a split. */
    public record Result(String split, int images, double accuracy, double loss) {}

    private Evaluator() {}

    public static Result evaluate(PeftModel model, ImageSet set, int batchSize) {
        model.merge();
        try {
            long correct = 0;
            double lossSum = 0;
            for (int start = 0; start < set.size(); start += batchSize) {
                int[] indices = java.util.stream.IntStream.range(start, Math.min(set.size(), start + batchSize)).toArray();
                try (NDManager scope = model.openScope()) {
                    NDList batch = set.batch(indices, false, new Random(0), scope);
                    NDArray logits = model.logits(batch.get(0), false);
                    NDArray labels = batch.get(1);
                    correct += logits.argMax(-1).eq(labels).toType(DataType.INT64, false).sum().getLong();
                    lossSum += Losses.crossEntropy(logits, labels, 0).getFloat() * indices.length;
                }
            }
            return new Result(set.name(), set.size(), (double) correct / set.size(), lossSum / set.size());
        } finally {
            model.unmerge();
        }
    }
}
