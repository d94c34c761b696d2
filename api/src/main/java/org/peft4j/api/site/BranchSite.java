package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A residual branch of a block ({@link SiteKind#ATTENTION} or {@link SiteKind#FFN}): input is the residual
 * stream entering the branch, output is what the branch adds back, before layer scale and drop path (a {@link
 * ResidualSite} follows those). Parallel adapters (AdaptFormer, MoSA) read the input; serial ones (Houlsby) rewrite
 * the output. The same class wraps a block's MLP on its normed input ({@link SiteKind#MLP}).
 */
public final class BranchSite extends SiteBlock {

    private final int features;
    private final Block branch;

    public BranchSite(String id, SiteKind kind, int depth, int features, Block branch) {
        super(id, kind, depth);
        if (kind != SiteKind.ATTENTION && kind != SiteKind.FFN && kind != SiteKind.MLP) {
            throw new IllegalArgumentException("a branch site is ATTENTION, FFN or MLP, not " + kind);
        }
        this.features = features;
        this.branch = child("branch", branch);
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray y = branch.forward(store, new NDList(x), training, params).singletonOrThrow();
        return new NDList(runAdapters(store, x, y, training));
    }

    /** The frozen branch this site wraps. */
    public Block branch() {
        return branch;
    }

    @Override
    public int inFeatures() {
        return features;
    }

    @Override
    public int outFeatures() {
        return features;
    }
}
