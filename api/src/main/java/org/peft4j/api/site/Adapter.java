package org.peft4j.api.site;

import ai.djl.nn.Block;

/**
 * A trainable module a method attaches to an {@link AdapterSite}.
 *
 * <p><b>Forward contract.</b> {@code forward(store, NDList(input, output), training)} returns {@code
 * NDList(newOutput)}: {@code input} is what entered the site, {@code output} what the site's frozen op (and
 * the adapters attached before this one) produced. Tensors may have any leading dimensions; features are
 * the last one. Adapters run in attach order. New arrays must come from ops on the inputs (so they live in
 * the caller's per-step scope). An adapter of one {@linkplain #slice() output slice} of a LINEAR site (LoRA on the q
 * rows of a fused qkv) gets and returns only that slice's features: the site splits its output and joins it.
 *
 * <p><b>Merge contract.</b> For inference an adapter either
 *
 * <ul>
 *   <li>folds into the site's frozen weights ({@link #foldable()} true, {@link #fold} returns the new
 *       weights; LoRA, MLAE, DMLoRA, SSF): merged and unmerged eval outputs agree to float precision and the
 *       adapter costs nothing at inference; or
 *   <li>is replaced by an inference-time form ({@link #inferenceForm()}; MoSA's single merged adapter); or
 *   <li>stays as it is (the defaults; AdaptFormer, VPT).
 * </ul>
 *
 * The site does the bookkeeping: it computes the merge into copies, checks they are finite, swaps them in,
 * refuses a second merge and restores the exact original weights on unmerge.
 */
public interface Adapter extends Block {

    /** A short name, unique within its site; checkpoint keys are {@code <site id>.<name>.<parameter>}. */
    String name();

    /**
     * The output slice of its site this adapter adapts, one of the site's {@link AdapterSite#slices()}, or null
     * (the default) for the whole output. With a slice, forward's {@code output} holds that slice's features only.
     */
    default OutputSlice slice() {
        return null;
    }

    /** Whether {@link #fold} can fold this adapter into the site's weights. */
    default boolean foldable() {
        return false;
    }

    /**
     * Returns the site weights with this adapter folded in. Must not modify {@code frozen}; the returned
     * arrays are new. Called outside any gradient recording, in a scope that closes temporaries.
     */
    default SiteWeights fold(SiteWeights frozen) {
        throw new UnsupportedOperationException(name() + " does not fold into its site");
    }

    /** The module to run at inference instead of this one (default: this adapter itself). */
    default Adapter inferenceForm() {
        return this;
    }
}
