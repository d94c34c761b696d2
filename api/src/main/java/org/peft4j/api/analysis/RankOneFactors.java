package org.peft4j.api.analysis;

import ai.djl.ndarray.NDArray;

/**
 * The rank-1 components of one adapter as plain Java arrays (not tied to any NDManager): component i is
 * {@code coefficients[i] * b_i a_i^T}, an {@code [out, in]} matrix.
 *
 * @param rank number of components r
 * @param in input features
 * @param out output rows the components write to
 * @param a row-major {@code [r, in]}: row i is a_i
 * @param b row-major {@code [r, out]}: row i is b_i
 * @param coefficients {@code [r]}: c_i; 0 marks a component unused at inference
 */
public record RankOneFactors(int rank, int in, int out, float[] a, float[] b, float[] coefficients) {

    public RankOneFactors {
        if (rank <= 0 || in <= 0 || out <= 0) {
            throw new IllegalArgumentException("rank-1 factors need positive sizes, got r=" + rank + " in=" + in
                    + " out=" + out);
        }
        check("a", a, (long) rank * in);
        check("b", b, (long) rank * out);
        check("coefficients", coefficients, rank);
    }

    /**
     * Reads factors from arrays: {@code a} {@code [r, in]}; {@code b} {@code [r, out]}, or {@code [out, r]}
     * when {@code bTransposed} (LoRA's PyTorch layout); {@code coefficients} {@code [r]}.
     */
    public static RankOneFactors of(NDArray a, NDArray b, boolean bTransposed, float[] coefficients) {
        int r = Math.toIntExact(a.getShape().get(0));
        int in = Math.toIntExact(a.getShape().get(1));
        float[] bValues = b.toFloatArray();
        int out = Math.toIntExact(bValues.length / r);
        if (bTransposed) {
            float[] t = new float[bValues.length];
            for (int row = 0; row < out; row++) {
                for (int i = 0; i < r; i++) {
                    t[i * out + row] = bValues[row * r + i];
                }
            }
            bValues = t;
        }
        return new RankOneFactors(r, in, out, a.toFloatArray(), bValues, coefficients.clone());
    }

    private static void check(String name, float[] values, long expected) {
        if (values == null || values.length != expected) {
            throw new IllegalArgumentException("rank-1 factor " + name + " needs " + expected + " values, got "
                    + (values == null ? "null" : values.length));
        }
    }
}
