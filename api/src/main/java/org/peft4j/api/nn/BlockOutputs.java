package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.peft4j.api.Intermediates;

/**
 * Records the outputs of chosen blocks during one forward pass. A model calls {@link #record} after each of its
 * blocks (a no-op unless a recording is running) and serves {@link #during} for {@code forwardIntermediates}.
 * One pass at a time, like the rest of a DJL training loop.
 */
public final class BlockOutputs {

    private Set<Integer> wanted = Set.of();
    private Map<Integer, NDArray> recorded;

    /** Called after block {@code depth} computed {@code output}; returns it unchanged. */
    public NDArray record(int depth, NDArray output) {
        if (recorded != null && wanted.contains(depth)) {
            recorded.put(depth, output);
        }
        return output;
    }

    /** Runs one forward pass that returns logits, recording the blocks at {@code depths}. */
    public Intermediates during(Set<Integer> depths, int modelDepth, Supplier<NDArray> pass) {
        for (int d : depths) {
            if (d < 0 || d >= modelDepth) {
                throw new IllegalArgumentException("block depth " + d + " is outside 0.." + (modelDepth - 1));
            }
        }
        if (recorded != null) {
            throw new IllegalStateException("a block-output recording is already running");
        }
        wanted = Set.copyOf(depths);
        recorded = new TreeMap<>();
        try {
            NDArray logits = pass.get();
            return new Intermediates(logits, recorded);
        } finally {
            recorded = null;
            wanted = Set.of();
        }
    }
}
