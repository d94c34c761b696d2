package org.peft4j.methods.baselines.vpt;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.AdapterBlock;

/**
 * VPT's prompts on one TOKENS site. The sequence layout is the {@link org.peft4j.api.site.TokenSite} contract,
 * {@code [prefix tokens, prompts, patch tokens]}:
 *
 * <ul>
 *   <li>{@link Mode#INSERT} (the first prompted block): {@code [x[:, :prefix], prompts, x[:, prefix:]]}, the
 *       sequence grows by {@code P} tokens;
 *   <li>{@link Mode#REPLACE} (every later block of VPT-deep): {@code [x[:, :prefix], prompts, x[:, prefix+P:]]},
 *       the previous block's prompt outputs are dropped and the length stays the same.
 * </ul>
 *
 * The prompts are a {@code [P, D]} parameter ({@code prompts}), Xavier-uniform initialised with the fans
 * given, broadcast over the batch; during training, inverted dropout (one mask per sample, as VPT's {@code
 * Dropout} on the expanded prompts) is applied to them. Prompts never fold: they stay at inference.
 */
public final class PromptAdapter extends AdapterBlock {

    /** Whether this site adds prompts or swaps the previous block's. */
    public enum Mode {
        INSERT,
        REPLACE
    }

    private final Parameter prompts;
    private final Mode mode;
    private final int count;
    private final int dim;
    private final int prefix;
    private final float dropout;
    private final String siteId;

    /**
     * @param siteId the TOKENS site, for error messages
     * @param count prompt tokens P
     * @param dim token width D
     * @param prefix tokens before the prompts (the site's {@code prefixTokens()})
     * @param fanIn Xavier fan-in (VPT: the patch vector size {@code 3 * p * p})
     * @param fanOut Xavier fan-out (VPT: the embedding width)
     */
    public PromptAdapter(String siteId, Mode mode, int count, int dim, int prefix, float dropout, long fanIn, long fanOut) {
        super("vpt");
        this.siteId = siteId;
        this.mode = mode;
        this.count = count;
        this.dim = dim;
        this.prefix = prefix;
        this.dropout = dropout;
        this.prompts = param("prompts", new Shape(count, dim), Initializers.xavierUniform(fanIn, fanOut));
    }

    public Parameter prompts() {
        return prompts;
    }

    public Mode mode() {
        return mode;
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        Shape s = output.getShape();
        if (s.dimension() != 3 || s.get(2) != dim) {
            throw new PeftException("vpt at site " + siteId + ": expected tokens [B, N, " + dim + "], got " + s);
        }
        long tokens = s.get(1);
        long keepFrom = mode == Mode.INSERT ? prefix : prefix + (long) count;
        if (tokens < keepFrom) {
            throw new PeftException("vpt at site " + siteId + ": " + tokens + " tokens arrived, but " + mode
                    + " needs at least " + keepFrom + " (prefix " + prefix + (mode == Mode.REPLACE
                            ? " + the " + count + " prompts of the previous block)" : ")"));
        }
        NDArray p = value(store, prompts, output, training);
        NDArray batch = Ops.expandLike(p, output, new Shape(s.get(0), count, dim));
        if (dropout > 0) {
            batch = Dropout.dropout(batch, dropout, training).singletonOrThrow();
        }
        NDList parts = new NDList();
        if (prefix > 0) {
            parts.add(output.get(":, :" + prefix + ", :"));
        }
        parts.add(batch);
        if (keepFrom < tokens) {
            parts.add(output.get(":, " + keepFrom + ":, :"));
        }
        return NDArrays.concat(parts, 1);
    }
}
