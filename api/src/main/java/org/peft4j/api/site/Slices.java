package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;

/** Adding a delta to the weight rows of one output slice (merge); the site splits activations itself (SiteBlock). */
public final class Slices {

    private Slices() {}

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
