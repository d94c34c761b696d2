package org.peft4j.api;

import ai.djl.ndarray.NDArray;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * One forward pass's logits together with the outputs of chosen blocks from that same pass (timm's {@code
 * forward_intermediates}), e.g. for a loss that aligns the features of two passes (MoSA).
 *
 * @param logits {@code [B, classes]}
 * @param blocks block depth -> that block's output (its token / feature map layout), in depth order
 */
public record Intermediates(NDArray logits, Map<Integer, NDArray> blocks) {

    public Intermediates {
        blocks = Collections.unmodifiableSortedMap(new TreeMap<>(blocks));
    }

    /** The output of block {@code depth}; an error if it was not asked for. */
    public NDArray block(int depth) {
        NDArray out = blocks.get(depth);
        if (out == null) {
            throw new IllegalArgumentException("block " + depth + " was not recorded; recorded: " + blocks.keySet());
        }
        return out;
    }
}
