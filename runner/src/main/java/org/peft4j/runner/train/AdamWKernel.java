package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.peft4j.api.nn.TorchScriptOp;

/**
 * AdamW's arithmetic over every parameter in one TorchScript call (PyTorch's multi-tensor "foreach" ops; the module
 * is made by {@code tools/torchscript/make_torchscript_ops.py}). Written as NDArray ops, a step launched some twenty
 * ops per parameter from Java, one by one, and left a GPU idle while it did.
 */
final class AdamWKernel {

    private AdamWKernel() {}

    private static PtSymbolBlock module() {
        return (PtSymbolBlock) TorchScriptOp.of(AdamWKernel.class, "adamw_step.pt").block();
    }

    /** Zeroes the gradients of {@code params} that exist (a parameter left out of a backward pass has none). */
    static void zeroGrads(List<NDArray> params) {
        List<NDArray> grads = params.stream().<NDArray>map(p -> JniUtils.getGradient((PtNDArray) p))
                .filter(Objects::nonNull).toList();
        try {
            zero(grads);
        } finally {
            grads.forEach(NDArray::close);
        }
    }

    /** Zeroes {@code grads} in place. */
    static void zero(List<NDArray> grads) {
        if (grads.isEmpty()) {
            return;
        }
        try (IValue list = tensors(grads);
                IValue none = IValueUtils.runMethod(module(), "zero", list)) {
            // zeroed in place
        }
    }

    /**
     * The sum of squares of all {@code grads} as a float64 scalar in {@code manager}, queued on their device (not
     * read: the caller decides when to wait for it).
     */
    static NDArray squaredNorm(List<NDArray> grads, NDManager manager) {
        try (IValue list = tensors(grads);
                IValue result = IValueUtils.runMethod(module(), "squared_norm", list)) {
            return result.toTensor((PtNDManager) manager);
        }
    }

    /**
     * Updates {@code params}, {@code means} and {@code variances} in place and zeroes {@code grads}: with
     * g = factor * grad, m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, w *= decays[i],
     * w -= stepSizes[i] * m / (sqrt(v) / sqrt(corrections2[i]) + eps). Parameters that share their three factors
     * are passed to the module as one group, so each op is one multi-tensor launch per group.
     */
    static void update(List<NDArray> params, List<NDArray> grads, List<NDArray> means, List<NDArray> variances,
            double factor, double beta1, double beta2, double eps, double[] decays, double[] corrections2,
            double[] stepSizes) {
        Map<List<Double>, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            List<Double> factors = List.of(decays[i], Math.sqrt(corrections2[i]), stepSizes[i]);
            groups.computeIfAbsent(factors, k -> new ArrayList<>()).add(i);
        }
        List<Integer> order = groups.values().stream().flatMap(List::stream).toList();
        int n = groups.size();
        long[] sizes = new long[n];
        double[][] perGroup = new double[3][n];
        int g = 0;
        for (Map.Entry<List<Double>, List<Integer>> group : groups.entrySet()) {
            sizes[g] = group.getValue().size();
            for (int k = 0; k < 3; k++) {
                perGroup[k][g] = group.getKey().get(k);
            }
            g++;
        }
        try (IValue w = tensors(params, order);
                IValue gr = tensors(grads, order);
                IValue m = tensors(means, order);
                IValue v = tensors(variances, order);
                IValue f = IValue.from(factor);
                IValue b1 = IValue.from(beta1);
                IValue b2 = IValue.from(beta2);
                IValue e = IValue.from(eps);
                IValue s = IValue.listFrom(sizes);
                IValue d = IValue.listFrom(perGroup[0]);
                IValue c2 = IValue.listFrom(perGroup[1]);
                IValue step = IValue.listFrom(perGroup[2]);
                IValue none = module().forward(w, gr, m, v, f, b1, b2, e, s, d, c2, step)) {
            // the update happened in place; the module returns None
        }
    }

    private static IValue tensors(List<NDArray> arrays, List<Integer> order) {
        return IValue.listFrom(order.stream().map(i -> (PtNDArray) arrays.get(i)).toArray(PtNDArray[]::new));
    }

    private static IValue tensors(List<NDArray> arrays) {
        return IValue.listFrom(arrays.stream().map(a -> (PtNDArray) a).toArray(PtNDArray[]::new));
    }
}
