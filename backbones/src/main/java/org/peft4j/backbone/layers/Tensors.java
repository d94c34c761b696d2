package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Small tensor helpers whose results live in the manager of the batch, not of the parameters. */
public final class Tensors {

    private Tensors() {}

    /**
     * {@code param} broadcast to {@code shape}, created in {@code like}'s manager. DJL puts an op's result in
     * its first operand's manager, so expanding a parameter directly would leave the result in the model's
     * long-lived manager.
     */
    public static NDArray expandLike(NDArray param, NDArray like, Shape shape) {
        return like.getManager().zeros(shape, param.getDataType(), like.getDevice()).add(param);
    }
}
