package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.NormSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.backbone.layers.DropPath;
import org.peft4j.backbone.layers.Mlp;
import org.peft4j.backbone.layers.NormThen;
import org.peft4j.backbone.layers.ParameterIndex;

/**
 * timm's SwinTransformerBlock on {@code [B, H, W, C]}: {@code x = x + dp(attn(norm1(x)))} with (shifted)
 * window attention, then, on the tokens {@code [B, H*W, C]} as timm reshapes them, {@code x = x +
 * dp(mlp(norm2(x)))}. Sites (no TOKENS: Swin has no token sequence to prompt): {@code .norm1},
 * {@code .attn.qkv}, {@code .attn.proj}, {@code .attn} (ATTENTION branch on {@code [B, H, W, C]}),
 * {@code .norm2}, {@code .mlp.fc1}, {@code .mlp.fc2}, {@code .mlp} (FFN branch on {@code [B, H*W, C]}).
 */
final class SwinBlock extends ModuleBlock {

    private final BranchSite attn;
    private final BranchSite mlp;
    private final WindowAttention attention;
    private final double dropPath;
    private final List<AdapterSite> sites;

    /**
     * @param prefix {@code layers.s.blocks.b}
     * @param depth the block's index over all stages
     */
    SwinBlock(String prefix, int depth, int dim, int heads, int hidden, WindowGeometry geometry, boolean qkvBias,
            float eps, double dropPath, ParameterIndex keys) {
        this.dropPath = dropPath;
        NormSite norm1 = new NormSite(prefix + ".norm1", depth, dim, eps);
        attention = new WindowAttention(prefix + ".attn", depth, dim, heads, geometry, qkvBias);
        NormSite norm2 = new NormSite(prefix + ".norm2", depth, dim, eps);
        Mlp ffn = new Mlp(prefix + ".mlp", depth, dim, hidden);
        attn = child("attn", new BranchSite(prefix + ".attn", SiteKind.ATTENTION, depth, dim, new NormThen(norm1, attention)));
        mlp = child("mlp", new BranchSite(prefix + ".mlp", SiteKind.FFN, depth, dim, new NormThen(norm2, ffn)));
        sites = List.of(norm1, attention.qkv(), attention.proj(), attn, norm2, ffn.fc1(), ffn.fc2(), mlp);

        keys.putSite(norm1);
        keys.put(prefix + ".attn.relative_position_bias_table", attention.biasTable());
        keys.putSite(attention.qkv());
        keys.putSite(attention.proj());
        keys.putSite(norm2);
        keys.putSite(ffn.fc1());
        keys.putSite(ffn.fc2());
    }

    List<AdapterSite> sites() {
        return sites;
    }

    WindowGeometry geometry() {
        return attention.geometry();
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Shape s = x.getShape();
        NDArray a = attn.forward(store, new NDList(x), training).singletonOrThrow();
        x = x.add(DropPath.apply(a, dropPath, training)).reshape(s.get(0), s.get(1) * s.get(2), s.get(3));
        NDArray m = mlp.forward(store, new NDList(x), training).singletonOrThrow();
        return new NDList(x.add(DropPath.apply(m, dropPath, training)).reshape(s));
    }
}
