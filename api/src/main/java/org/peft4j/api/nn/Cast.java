package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Dtype casts that keep the autograd graph. DJL's {@code NDArray.toType} passes no gradient back, so a cast inside
 * a training forward pass runs {@code x.to(like.dtype)} as a TorchScript module ({@code cast.pt}), whose backward
 * casts the gradient back. (DJL's {@code hasGradient()} is false for results of ops even when they carry a
 * gradient function, so there is no telling a graph from a constant here: every cast goes through the module.)
 */
public final class Cast {

    private Cast() {}

    /** {@code x} as {@code type}: {@code x} itself when it already is, else a cast gradients flow through. */
    public static NDArray to(NDArray x, DataType type) {
        if (x.getDataType() == type) {
            return x;
        }
        NDArray like = x.getManager().create(new Shape(0), type, x.getDevice());
        return Holder.CAST.call(x, like);
    }

    /** Loaded on first use, so classes that merely mention casts need no engine. */
    private static final class Holder {
        static final TorchScriptOp CAST = TorchScriptOp.of(Cast.class, "cast.pt");
    }
}
