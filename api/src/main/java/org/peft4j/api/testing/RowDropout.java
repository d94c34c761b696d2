package org.peft4j.api.testing;

import ai.djl.ndarray.NDArray;

/**
 * How a training-mode delta relates to the eval-mode delta row by row (a row = the last dimension of one token),
 * for testing where an adapter applies dropout. Give the adapter a one-wide quantity to drop (an input width of 1,
 * a bottleneck of 1): dropout in the right place then drops or rescales whole rows, {@code train = 0} or {@code
 * train = eval / (1 - p)}; dropout on the output drops single entries (mixed rows), and a dropout that is ignored
 * keeps every row unscaled (also mixed: neither 0 nor 1/(1-p)).
 *
 * @param dropped rows that are exactly zero in training
 * @param kept rows equal to the eval row times 1/(1-p), within the tolerance
 * @param mixed rows that are neither
 */
public record RowDropout(int dropped, int kept, int mixed) {

    /**
     * @param train the adapter's delta in training mode (output minus the frozen output), any shape
     * @param eval the delta in eval mode, same shape
     * @param p the dropout probability
     * @param tolerance absolute tolerance of the rescaled rows (deltas taken as differences of outputs carry the
     *     outputs' rounding)
     */
    public static RowDropout of(NDArray train, NDArray eval, double p, double tolerance) {
        long width = train.getShape().getLastDimension();
        float[] t = train.toFloatArray();
        float[] e = eval.toFloatArray();
        double keep = 1.0 / (1.0 - p);
        int dropped = 0;
        int kept = 0;
        int mixed = 0;
        for (int row = 0; row < t.length / width; row++) {
            boolean zero = true;
            boolean scaled = true;
            for (int j = 0; j < width; j++) {
                int i = (int) (row * width + j);
                zero &= t[i] == 0f;
                scaled &= Math.abs(t[i] - keep * e[i]) <= tolerance;
            }
            if (zero) {
                dropped++;
            } else if (scaled) {
                kept++;
            } else {
                mixed++;
            }
        }
        return new RowDropout(dropped, kept, mixed);
    }

    /** Whether every row was dropped or kept and both happened. */
    public boolean wholeRowsDroppedAndKept() {
        return mixed == 0 && dropped > 0 && kept > 0;
    }
}
