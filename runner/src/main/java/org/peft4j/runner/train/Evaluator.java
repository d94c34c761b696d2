package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Random;
import org.peft4j.runner.data.BatchStream;
import org.peft4j.runner.data.HostBatch;
import org.peft4j.runner.data.ImageSet;

/** Top-1 accuracy of the merged model (the inference form users deploy), unmerged again afterwards. */
public final class Evaluator {

    /** Accuracy and mean loss on a split. */
    public record Result(String split, int images, double accuracy, double loss) {}

    private Evaluator() {}

    /** Streams the set through the merged model: batches are decoded ahead while the model computes, none is kept. */
    public static Result evaluate(PeftModel model, ImageSet set, int batchSize) {
        model.merge();
        try (BatchStream batches = set.stream(ImageSet.inOrder(set.size(), batchSize), false, b -> new Random(0))) {
            long correct = 0;
            double lossSum = 0;
            while (batches.hasNext()) {
                HostBatch host = batches.next();
                try (NDManager scope = model.openScope()) {
                    NDList batch = host.toNDList(scope);
                    NDArray logits = model.logits(batch.get(0), false);
                    NDArray labels = batch.get(1);
                    correct += logits.argMax(-1).eq(labels).toType(DataType.INT64, false).sum().getLong();
                    lossSum += Losses.crossEntropy(logits, labels, 0).getFloat() * host.count();
                }
            }
            return new Result(set.name(), set.size(), (double) correct / set.size(), lossSum / set.size());
        } finally {
            model.unmerge();
        }
    }
}
