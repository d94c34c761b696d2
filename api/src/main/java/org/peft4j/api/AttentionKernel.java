package org.peft4j.api;

import java.util.Arrays;
import java.util.Locale;

/** How a backbone computes softmax attention. */
public enum AttentionKernel {
    /** PyTorch's fused {@code scaled_dot_product_attention} (flash / memory-efficient / CPU flash kernels). */
    SDPA,
    /** {@code softmax(q k^T * scale + bias) v} as separate ops: the reference. */
    MATH;

    /** The config spelling: {@code sdpa}, {@code math}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code sdpa} or {@code math}; the error names {@code where}. */
    public static AttentionKernel parse(String value, String where) {
        for (AttentionKernel k : values()) {
            if (k.id().equals(value)) {
                return k;
            }
        }
        throw new PeftException(where + ": expected one of " + Arrays.stream(values()).map(AttentionKernel::id).toList()
                + ", got '" + value + "'");
    }
}
