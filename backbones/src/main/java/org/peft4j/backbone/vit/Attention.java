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
        NDArray qkvOut = qkv.forward(store, inputs, training).singletonOrThrow()
                .reshape(b, n, 3, heads, headDim)
                .transpose(2, 0, 3, 1, 4); // [3, B, H, N, dh]
        NDArray q = qkvOut.get(0);
        NDArray k = qkvOut.get(1);
        NDArray v = qkvOut.get(2);
        NDArray attended = kernel == AttentionKernel.SDPA ? Sdpa.attend(q, k, v)
                : Ops.scale(q, scale).matMul(k.transpose(0, 1, 3, 2)).softmax(-1).matMul(v);
        NDArray out = attended.transpose(0, 2, 1, 3).reshape(b, n, dim);
        return proj.forward(store, new NDList(out), training);
    }
}
