package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.nn.Ops;
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
 *
 * <p>Prompted input (VPT's Swin variant): a sequence {@code [B, P + side^2, C]} whose first P tokens are prompts.
 * Each window of a sample gets that sample's prompts prepended ({@code [B*nW, P + N, C]}); prompt rows and columns
 * get no relative position bias and no shift mask (zeros, as VPT pads them); the prompts' outputs are averaged
 * over the sample's windows. VPT's code pairs windows with prompts of other samples of the batch (its expand
 * is window-major while windows are batch-major), which mixes samples when B &gt; 1; peft4j keeps samples apart.
 */
final class WindowAttention extends ModuleBlock implements UsesAttentionKernel {

    private final int dim;
    private final int heads;
    private final float scale;
    private final WindowGeometry geometry;
    private final LinearSite qkv;
    private final LinearSite proj;
    private final Parameter biasTable;
    private final int side;
    private AttentionKernel kernel = AttentionKernel.SDPA;

    /** @param side the feature map side this block sees (for the prompted sequence input) */
    WindowAttention(String prefix, int depth, int dim, int heads, WindowGeometry geometry, int side, boolean qkvBias) {
        this.side = side;
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
        if (s.dimension() == 3 && s.get(2) == dim && s.get(1) >= (long) side * side) {
            return new NDList(prompted(store, x, training));
        }
        if (s.dimension() != 4 || s.get(3) != dim) {
            throw new PeftException("window attention " + qkv.id() + " expects [B, H, W, " + dim + "] or [B, P + "
                    + side * side + ", " + dim + "], got " + s);
        }
        return new NDList(attendMap(store, x, null, training).map());
    }

    /** {@code [B, P + side^2, C]}: prompts first, then the map row-major. */
    private NDArray prompted(ParameterStore store, NDArray seq, boolean training) {
        Shape s = seq.getShape();
        long b = s.get(0);
        long p = s.get(1) - (long) side * side;
        NDArray map = seq.get(":, " + p + ":, :").reshape(b, side, side, dim);
        Attended out = attendMap(store, map, p == 0 ? null : seq.get(":, :" + p + ", :"), training);
        NDArray tokens = out.map().reshape(b, (long) side * side, dim);
        return out.prompts() == null ? tokens : out.prompts().concat(tokens, 1);
    }

    /** The attended map {@code [B, H, W, C]} and, when prompts took part, their outputs {@code [B, P, C]}. */
    private record Attended(NDArray map, NDArray prompts) {}

    /**
     * Attention over the windows of {@code x [B, H, W, C]}; with {@code prompts [B, P, C]} each window also
     * attends to (and updates) its sample's prompts, whose outputs are averaged over the sample's windows.
     */
    private Attended attendMap(ParameterStore store, NDArray x, NDArray prompts, boolean training) {
        Shape s = x.getShape();
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
        int p = 0;
        if (prompts != null) {
            p = (int) prompts.getShape().get(1);
            // batch-major like the windows: window k of sample i gets sample i's prompts
            NDArray perWindow = prompts.expandDims(1).broadcast(new Shape(b, windows, p, dim)).reshape(b * windows, p, dim);
            tokens = perWindow.concat(tokens, 1);
        }
        NDArray attended = attend(store, tokens, p, b, windows, hp, wp, training);
        NDArray promptsOut = null;
        if (p > 0) {
            promptsOut = attended.get(":, :" + p + ", :").reshape(b, windows, p, dim).mean(new int[] {1});
            attended = attended.get(":, " + p + ":, :");
        }
        NDArray merged = attended.reshape(b, hp / win, wp / win, win, win, dim)
                .transpose(0, 1, 3, 2, 4, 5)
                .reshape(b, hp, wp, dim);
        if (padH > 0 || padW > 0) {
            merged = merged.get(":, :" + h + ", :" + w + ", :");
        }
        return new Attended(shift > 0 ? ChannelsLast.roll(ChannelsLast.roll(merged, shift, 1), shift, 2) : merged, promptsOut);
    }

    /**
     * timm's {@code WindowAttention.forward} on windows {@code [B*nW, P + N, C]} whose first {@code p} tokens are
     * prompts (bias and mask zero on their rows and columns).
     */
    private NDArray attend(ParameterStore store, NDArray tokens, int p, long batch, long windows, int hp, int wp,
            boolean training) {
        long bw = tokens.getShape().get(0);
        int n = geometry.area();
        int all = p + n;
        long headDim = dim / heads;
        NDManager batchManager = tokens.getManager();
        NDList qkvSlices = qkv.forwardSlices(store, tokens, training); // views, as in ViT's Attention
        NDArray q = Attention.tokens(qkvSlices.get(0), bw, all, heads, headDim); // [B*nW, P + N, heads, dh]
        NDArray k = Attention.tokens(qkvSlices.get(1), bw, all, heads, headDim);
        NDArray v = Attention.tokens(qkvSlices.get(2), bw, all, heads, headDim);
        // take() puts the gathered bias [heads, N, N] in the batch's manager, not the table's
        NDArray table = value(store, biasTable, tokens, training);
        NDArray bias = table.take(batchManager, geometry.biasGatherIndex(batchManager, heads).toDevice(tokens.getDevice(), false));
        if (p > 0) {
            NDArray top = batchManager.zeros(new Shape(heads, p, n), bias.getDataType(), tokens.getDevice());
            bias = top.concat(bias, 1);
            NDArray left = batchManager.zeros(new Shape(heads, all, p), bias.getDataType(), tokens.getDevice());
            bias = left.concat(bias, 2);
        }
        NDArray mask = geometry.shift() > 0
                ? batchManager.create(padPrompts(geometry.mask(hp, wp), (int) windows, n, p), new Shape(1, windows, 1, all, all))
                        .toType(q.getDataType(), false).toDevice(tokens.getDevice(), false)
                : null;
        NDArray out;
        if (kernel == AttentionKernel.SDPA) {
            // one additive mask [B*nW, heads, P + N, P + N] (or [heads, ...], broadcast over windows, when unshifted)
            NDArray additive = mask == null ? bias
                    : bias.reshape(1, 1, heads, all, all).add(mask).broadcast(new Shape(batch, windows, heads, all, all))
                            .reshape(bw, heads, all, all);
            out = Sdpa.attend(q, k, v, additive);
        } else {
            NDArray attn = Ops.scale(Attention.headMajor(q), scale).matMul(Attention.headMajor(k).transpose(0, 1, 3, 2))
                    .add(bias);
            if (mask != null) {
                attn = attn.reshape(batch, windows, heads, all, all).add(mask).reshape(bw, heads, all, all);
            }
            out = attn.softmax(-1).matMul(Attention.headMajor(v)).transpose(0, 2, 1, 3).reshape(bw, all, dim);
        }
        return proj.forward(store, new NDList(out), training).singletonOrThrow();
    }

    /** The {@code [nW, N, N]} shift mask embedded in {@code [nW, P + N, P + N]} with zeros for prompt pairs. */
    private static float[] padPrompts(float[] mask, int windows, int n, int p) {
        if (p == 0) {
            return mask;
        }
        int all = p + n;
        float[] padded = new float[windows * all * all];
        for (int wdw = 0; wdw < windows; wdw++) {
            for (int i = 0; i < n; i++) {
                System.arraycopy(mask, (wdw * n + i) * n, padded, (wdw * all + p + i) * all + p, n);
            }
        }
        return padded;
    }
}
