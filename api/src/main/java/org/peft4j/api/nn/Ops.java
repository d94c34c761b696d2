package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/**
 * Arithmetic with Java numbers that is safe under autograd, and small fused forms of common products.
 *
 * <p>DJL's {@code NDArray.mul(Number)} / {@code div(Number)} wrap the number in a tensor backed by a Java
 * buffer and close it right after the op; autograd keeps that tensor for the backward pass, and once the
 * buffer is garbage-collected the backward reads freed memory (flaky NaN gradients). These helpers create the
 * scalar in the input's manager, where it lives until the caller's scope (the training step) ends.
 */
public final class Ops {

    private Ops() {}

    /** {@code x * s}, safe to backpropagate through. */
    public static NDArray scale(NDArray x, double s) {
        return x.mul(scalar(x, s));
    }

    /** {@code x / s}, safe to backpropagate through. */
    public static NDArray divide(NDArray x, double s) {
        return x.div(scalar(x, s));
    }

    /**
     * A scalar of {@code x}'s type on its device, kept by {@code x}'s manager. It is filled on the device: a scalar
     * copied from a Java buffer ({@code create(float)}, and so DJL's {@code mul(Number)}) is a host-to-device copy
     * that waits for all queued GPU work, and a few hundred of them per step left the GPU idle most of the step.
     */
    public static NDArray scalar(NDArray x, double s) {
        return x.getManager().full(new Shape(), (float) s, x.getDataType()).toDevice(x.getDevice(), false);
    }

    /** {@code x W^T} for {@code W [out, in]} as one op (PyTorch's linear): no transpose op launched first. */
    public static NDArray linear(NDArray x, NDArray w) {
        return linear(x, w, null);
    }

    /**
     * {@code x W^T + b} over the last dimension with the bias added inside the matrix product (addmm), as
     * PyTorch's own linear does. DJL's linear runs the C++ API's older form, which for input of three or more
     * dimensions multiplies and then adds the bias in a second pass over the whole output; on two dimensions it
     * fuses. So the leading dimensions are flattened first (views, for contiguous input).
     */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        Shape shape = x.getShape();
        if (b == null || shape.dimension() <= 2) {
            return Linear.linear(x, w, b).singletonOrThrow();
        }
        long in = shape.get(shape.dimension() - 1);
        NDArray y = Linear.linear(x.reshape(-1, in), w, b).singletonOrThrow();
        long[] out = shape.getShape().clone(); // getShape() is the shape's own array
        out[out.length - 1] = w.getShape().get(0);
        return y.reshape(out);
    }

    /** {@code x + s}. */
    public static NDArray plus(NDArray x, double s) {
        return x.add(scalar(x, s));
    }

    /**
     * {@code param} broadcast to {@code shape}, created in {@code like}'s manager (the batch's). Expanding the
     * parameter directly would leave the result in the model's long-lived manager.
     */
    public static NDArray expandLike(NDArray param, NDArray like, Shape shape) {
        return like.getManager().zeros(shape, param.getDataType(), like.getDevice()).add(param);
    }
}
