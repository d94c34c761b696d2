package org.peft4j.runner.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import org.peft4j.api.nn.Ops;

/**
 * A batch prepared on the Java side (decoded, resized, cropped): 8-bit CHW pixels and labels. Kept as bytes, a
 * quarter of float32, so batches decoded ahead cost little heap; scaling and normalisation run in the engine.
 */
public record HostBatch(byte[] pixels, long[] labels, int size, Transform transform) {

    public int count() {
        return labels.length;
    }

    /** (images {@code [B, 3, S, S]} float32 normalised, labels {@code [B]} int64), created in {@code manager}. */
    public NDList toNDList(NDManager manager) {
        int b = count();
        NDArray bytes = manager.create(ByteBuffer.wrap(pixels), new Shape(b, 3, size, size), DataType.UINT8);
        NDArray mean = manager.create(transform.mean(), new Shape(1, 3, 1, 1));
        NDArray std = manager.create(transform.std(), new Shape(1, 3, 1, 1));
        // inputs need no gradient, so toType (which cuts autograd) and scalar division are safe here
        NDArray images = Ops.divide(bytes.toType(DataType.FLOAT32, false), 255).sub(mean).div(std);
        return new NDList(images, manager.create(labels));
    }
}
