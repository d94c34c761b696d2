package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;

/** Adding a delta to one output slice, in forward (activations) and in merge (weight rows); autograd-safe. */
public final class Slices {

    private Slices() {}

    /** {@code output} with {@code delta} added to the features of {@code slice} (all features if null). */
    public static NDArray addToFeatures(NDArray output, OutputSlice slice, NDArray delta) {
        if (slice == null) {
            return output.add(delta);
        }
        // in place on the slice's view: the frozen op's output is not kept for its own backward, and autograd tracks
        // the in-place add; a concat of the three pieces would copy the whole (3x wider) qkv output per adapter
        output.get("..., " + slice.start() + ":" + slice.end()).addi(delta);
        return output;
    }

    /** {@code weight} ({@code [out, ...]}) with {@code delta} added to the rows of {@code slice} (all if null). */
    public static NDArray addToRows(NDArray weight, OutputSlice slice, NDArray delta) {
        if (slice == null) {
            return weight.add(delta);
        }
        long rows = weight.getShape().get(0);
        NDArray result = weight.get(slice.start() + ":" + slice.end()).add(delta);
        if (slice.start() > 0) {
            result = weight.get(":" + slice.start()).concat(result, 0);
        }
        if (slice.end() < rows) {
            result = result.concat(weight.get(slice.end() + ":"), 0);
        }
        return result;
    }
}
