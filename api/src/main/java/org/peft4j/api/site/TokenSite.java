package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * The token sequence {@code [B, N, D]} entering a transformer block; the frozen op is the identity.
 * Prompt methods insert or replace tokens here. Layout contract: {@code [prefix tokens (cls), prompts...,
 * patch tokens]}: prompts sit between the backbone's prefix tokens and its patch tokens, and the backbone
 * drops them again before pooling, keeping its first {@code prefix} and last {@code patches} tokens (an
 * average-pooled model may average them with the patches instead, {@link
 * org.peft4j.api.AdaptableModel#setPromptsPooled}). Swin has no prefix: its sites see {@code [prompts, patches]}
 * with the feature map flattened row-major, and its blocks carry the prompts through windows and merges.
 */
public final class TokenSite extends SiteBlock {

    private final int dim;
    private final int prefixTokens;

    public TokenSite(String id, int depth, int dim, int prefixTokens) {
        super(id, SiteKind.TOKENS, depth);
        this.dim = dim;
        this.prefixTokens = prefixTokens;
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(runAdapters(store, x, x, training));
    }

    /** Number of tokens before the prompts (1 for a cls token, 0 without). */
    public int prefixTokens() {
        return prefixTokens;
    }

    @Override
    public int inFeatures() {
        return dim;
    }

    @Override
    public int outFeatures() {
        return dim;
    }
}
