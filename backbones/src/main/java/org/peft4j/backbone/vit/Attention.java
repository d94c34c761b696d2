package org.peft4j.backbone.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.backbone.layers.Sdpa;
import org.peft4j.backbone.layers.UsesAttentionKernel;

/**
 * Multi-head self-attention with a fused qkv (rows q, then k, then v) and an output projection. Attention itself
 * runs PyTorch's fused SDPA kernel by default, or the reference {@code softmax(q k^T * scale) v} ops.
 */
public final class Attention extends ModuleBlock implements UsesAttentionKernel {

    private final int dim;
    private final int heads;
    private final float scale;
    private final LinearSite qkv;
    private final LinearSite proj;
    private AttentionKernel kernel = AttentionKernel.SDPA;

    public Attention(String prefix, int depth, int dim, int heads, boolean qkvBias) {
        this.dim = dim;
        this.heads = heads;
        this.scale = (float) (1.0 / Math.sqrt(dim / (double) heads));
        this.qkv = child("qkv", LinearSite.builder().setId(prefix + ".qkv").setFeatures(dim, 3 * dim)
                .optDepth(depth).optBias(qkvBias).optSlices(qkvSlices(dim)).build());
        this.proj = child("proj", LinearSite.builder().setId(prefix + ".proj").setFeatures(dim, dim).optDepth(depth).build());
    }

    public static List<OutputSlice> qkvSlices(int dim) {
        return List.of(new OutputSlice("q", 0, dim), new OutputSlice("k", dim, 2 * dim), new OutputSlice("v", 2 * dim, 3 * dim));
    }

    public LinearSite qkv() {
        return qkv;
    }

    public LinearSite proj() {
        return proj;
    }

    @Override
    public void useKernel(AttentionKernel kernel) {
        this.kernel = kernel;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape s = x.getShape();
        long b = s.get(0);
        long n = s.get(1);
        long headDim = dim / heads;
        // q, k and v [B, N, H, dh] as views of the qkv site's slices (PyTorch's chunk layout): backward writes their
        // gradients back with one concatenation, where selecting from a [3, B, H, N, dh] permutation zero-filled a
        // full-size gradient per selection and copied it back into the qkv layout. The fused kernel takes them
        // token-major and moves them to head-major itself.
        NDList qkvSlices = qkv.forwardSlices(store, x, training);
        NDArray q = tokens(qkvSlices.get(0), b, n, heads, headDim);
        NDArray k = tokens(qkvSlices.get(1), b, n, heads, headDim);
        NDArray v = tokens(qkvSlices.get(2), b, n, heads, headDim);
        NDArray out;
        if (kernel == AttentionKernel.SDPA) {
            out = Sdpa.attend(q, k, v);
        } else {
            NDArray attended = Ops.scale(headMajor(q), scale).matMul(headMajor(k).transpose(0, 1, 3, 2)).softmax(-1)
                    .matMul(headMajor(v));
            out = attended.transpose(0, 2, 1, 3).reshape(b, n, dim);
        }
        return proj.forward(store, new NDList(out), training);
    }

    /** {@code [B, N, heads * dh] -> [B, N, heads, dh]}, a view. */
    public static NDArray tokens(NDArray features, long b, long n, int heads, long headDim) {
        return features.reshape(b, n, heads, headDim);
    }

    /** {@code [B, N, heads, dh] -> [B, heads, N, dh]}, a view. */
    public static NDArray headMajor(NDArray tokens) {
        return tokens.transpose(0, 2, 1, 3);
    }
}
