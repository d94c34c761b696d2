package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.peft4j.api.nn.Ops;

/** Stochastic depth per sample (timm's {@code drop_path}); DJL has none. Identity at eval or rate 0. */
public final class DropPath {

    private DropPath() {}

    /** Drops whole samples of a residual branch with probability {@code rate}, scaling kept ones by 1/(1-rate). */
    public static NDArray apply(NDArray x, double rate, boolean training) {
        if (!training || rate <= 0) {
            return x;
        }
        double keep = 1.0 - rate;
        long[] dims = new long[x.getShape().dimension()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = x.getShape().get(0);
        // the mask needs no gradient, so the dtype cast is harmless here
        NDArray uniform = x.getManager().randomUniform(0f, 1f, new Shape(dims));
        NDArray mask = uniform.lt(Ops.scalar(uniform, keep)).toType(x.getDataType(), false);
        return x.mul(Ops.divide(mask, keep));
    }

    /** timm's linearly increasing rates over {@code depth} blocks, ending at {@code rate}. */
    public static double[] schedule(double rate, int depth) {
        double[] rates = new double[depth];
        for (int i = 0; i < depth; i++) {
            rates[i] = depth == 1 ? rate : rate * i / (depth - 1);
        }
        return rates;
    }
}
