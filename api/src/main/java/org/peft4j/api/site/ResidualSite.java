package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A residual branch's contribution to the stream, after the branch's layer scale and drop path ({@link
 * SiteKind#ATTENTION_RESIDUAL} or {@link SiteKind#FFN_RESIDUAL}): it wraps the branch site and the backbone's
 * post-branch op, {@code z = post(branch(x))}, and runs its adapters on {@code (x, z)}; the block then adds the
 * result to its shortcut. Ids follow timm's drop-path modules ({@code blocks.3.drop_path2}).
 *
 * <p>Where an adapter sits relative to layer scale and drop path matters as soon as either is active: a parallel
 * adapter here computes {@code x + dp(ls(f(x))) + a(x)}, AdaptFormer's code; on the branch site it would compute
 * {@code x + dp(ls(f(x) + a(x)))}. A serial adapter here reads what the drop path leaves (NOAH's adapter).
 */
public final class ResidualSite extends SiteBlock {

    private final BranchSite branch;
    private final Block post;

    /**
     * @param id e.g. {@code blocks.3.drop_path2}
     * @param branch the ATTENTION or FFN branch site this site follows
     * @param post layer scale and drop path of the branch ({@code [..., features] -> same}), or null for none
     */
    public ResidualSite(String id, BranchSite branch, Block post) {
        super(id, branch.kind() == SiteKind.ATTENTION ? SiteKind.ATTENTION_RESIDUAL : SiteKind.FFN_RESIDUAL, branch.depth());
        if (branch.kind() != SiteKind.ATTENTION && branch.kind() != SiteKind.FFN) {
            throw new IllegalArgumentException("a residual site follows an ATTENTION or FFN branch, not " + branch.kind());
        }
        this.branch = child("branch", branch);
        this.post = post == null ? null : child("post", post);
    }

    /** The branch site inside. */
    public BranchSite branch() {
        return branch;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDList y = branch.forward(store, inputs, training, params);
        NDArray z = (post == null ? y : post.forward(store, y, training)).singletonOrThrow();
        return new NDList(runAdapters(store, x, z, training));
    }

    @Override
    public int inFeatures() {
        return branch.inFeatures();
    }

    @Override
    public int outFeatures() {
        return branch.outFeatures();
    }
}
