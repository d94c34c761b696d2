package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.LinearSite;
import org.peft4j.backbone.layers.Sdpa;
import org.peft4j.backbone.layers.UsesAttentionKernel;
import org.peft4j.backbone.vit.Attention;

/**
 * (Shifted) window multi-head self-attention over a channels-last map {@code [B, H, W, C] -> [B, H, W, C]}:
 * timm's {@code SwinTransformerBlock._attn} with its {@code WindowAttention}. Cyclic shift, zero padding to
 * whole windows, attention inside each window with a learned relative position bias (plus the mask of
 * shifted windows), then the inverse steps. The fused qkv (rows q, k, v) and the output projection are
 * LINEAR sites {@code <prefix>.qkv} and {@code <prefix>.proj}; they see windows {@code [B*nW, N, C]}. Attention
 * runs PyTorch's fused SDPA kernel with bias and mask as one additive mask (default), or timm's unfused ops.
 */
final class WindowAttention extends ModuleBlock implements UsesAttentionKernel {

    private final int dim;
    private final int heads;
    private final float scale;
    private final WindowGeometry geometry;
    private final LinearSite qkv;
    private final LinearSite proj;
    private final Parameter biasTable;
    private AttentionKernel kernel = AttentionKernel.SDPA;

    WindowAttention(String prefix, int depth, int dim, int heads, WindowGeometry geometry, boolean qkvBias) {
        this.dim = dim;
        this.heads = heads;
        this.scale = (float) Math.pow(dim / (double) heads, -0.5);
        this.geometry = geometry;
        this.biasTable = param("relative_position_bias_table", new Shape(geometry.tableSize(), heads),
                Initializers.truncNormal(0.02));
        this.qkv = child("qkv", LinearSite.builder().setId(prefix + ".qkv").setFeatures(dim, 3 * dim)
                .optDepth(depth).optBias(qkvBias).optSlices(Attention.qkvSlices(dim)).build());
        this.proj = child("proj", LinearSite.builder().setId(prefix + ".proj").setFeatures(dim, dim).optDepth(depth).build());
    }

    LinearSite qkv() {
        return qkv;
    }

    LinearSite proj() {
        return proj;
    }

    Parameter biasTable() {
        return biasTable;
    }

    WindowGeometry geometry() {
        return geometry;
    }

    @Override
    public void useKernel(AttentionKernel kernel) {
        this.kernel = kernel;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(3) != dim) {
            throw new PeftException("window attention " + qkv.id() + " expects [B, H, W, " + dim + "], got " + s);
        }
        long b = s.get(0);
        int h = (int) s.get(1);
        int w = (int) s.get(2);
        int win = geometry.window();
        int shift = geometry.shift();

        NDArray shifted = shift > 0 ? ChannelsLast.roll(ChannelsLast.roll(x, -shift, 1), -shift, 2) : x;
        int padH = (win - h % win) % win;
        int padW = (win - w % win) % win;
        shifted = ChannelsLast.padBottomRight(shifted, padH, padW);
        int hp = h + padH;
        int wp = w + padW;
        long windows = (long) (hp / win) * (wp / win);

        NDArray tokens = shifted.reshape(b, hp / win, win, wp / win, win, dim)
                .transpose(0, 1, 3, 2, 4, 5)
                .reshape(b * windows, geometry.area(), dim);
        NDArray attended = attend(store, tokens, b, windows, hp, wp, training);
        NDArray merged = attended.reshape(b, hp / win, wp / win, win, win, dim)
                .transpose(0, 1, 3, 2, 4, 5)
                .reshape(b, hp, wp, dim);
        if (padH > 0 || padW > 0) {
            merged = merged.get(":, :" + h + ", :" + w + ", :");
        }
        return new NDList(shift > 0 ? ChannelsLast.roll(ChannelsLast.roll(merged, shift, 1), shift, 2) : merged);
    }

    /** timm's {@code WindowAttention.forward} on windows {@code [B*nW, N, C]}. */
    private NDArray attend(ParameterStore store, NDArray tokens, long batch, long windows, int hp, int wp, boolean training) {
        long bw = tokens.getShape().get(0);
        int n = geometry.area();
        long headDim = dim / heads;
        NDManager batchManager = tokens.getManager();
        NDArray qkvOut = qkv.forward(store, new NDList(tokens), training).singletonOrThrow()
                .reshape(bw, n, 3, heads, headDim)
                .transpose(2, 0, 3, 1, 4); // [3, B*nW, heads, N, dh]
        NDArray q = qkvOut.get(0);
        NDArray k = qkvOut.get(1);
        NDArray v = qkvOut.get(2);
        // take() puts the gathered bias [heads, N, N] in the batch's manager, not the table's
        NDArray table = value(store, biasTable, tokens, training);
        NDArray bias = table.take(batchManager, geometry.biasGatherIndex(batchManager, heads).toDevice(tokens.getDevice(), false));
        NDArray mask = geometry.shift() > 0
                ? batchManager.create(geometry.mask(hp, wp), new Shape(1, windows, 1, n, n))
                        .toType(q.getDataType(), false).toDevice(tokens.getDevice(), false)
                : null;
        NDArray attended;
        if (kernel == AttentionKernel.SDPA) {
            // one additive mask [B*nW, heads, N, N] (or [heads, N, N], broadcast over windows, when unshifted)
            NDArray additive = mask == null ? bias
                    : bias.reshape(1, 1, heads, n, n).add(mask).broadcast(new Shape(batch, windows, heads, n, n)).reshape(bw, heads, n, n);
            attended = Sdpa.attend(q, k, v, additive);
        } else {
            NDArray attn = Ops.scale(q, scale).matMul(k.transpose(0, 1, 3, 2)).add(bias);
            if (mask != null) {
                attn = attn.reshape(batch, windows, heads, n, n).add(mask).reshape(bw, heads, n, n);
            }
            attended = attn.softmax(-1).matMul(v);
        }
        NDArray out = attended.transpose(0, 2, 1, 3).reshape(bw, n, dim);
        return proj.forward(store, new NDList(out), training).singletonOrThrow();
    }
}
