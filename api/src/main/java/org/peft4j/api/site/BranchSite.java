package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A residual branch of a block ({@link SiteKind#ATTENTION} or {@link SiteKind#FFN}): input is the residual
 * stream entering the branch, output is what the branch adds back (before layer scale and drop path).
 * Parallel adapters (AdaptFormer, MoSA) read the input; serial ones (Houlsby) rewrite the output.
 */
public final class BranchSite extends SiteBlock {

    private final int features;
    private final Block branch;

    public BranchSite(String id, SiteKind kind, int depth, int features, Block branch) {
        super(id, kind, depth);
        if (kind != SiteKind.ATTENTION && kind != SiteKind.FFN) {
            throw new IllegalArgumentException("a branch site is ATTENTION or FFN, not " + kind);
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
