package org.peft4j.backbone.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.NormSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.TokenSite;
import org.peft4j.backbone.layers.DropPath;
import org.peft4j.backbone.layers.LayerScale;
import org.peft4j.backbone.layers.Mlp;
import org.peft4j.backbone.layers.NormThen;
import org.peft4j.backbone.layers.ParameterIndex;

/**
 * A pre-norm transformer block: {@code x = x + dp(ls1(attn(norm1(x)))); x = x + dp(ls2(mlp(norm2(x))))}.
 * Sites: {@code blocks.i} (tokens), {@code .norm1}, {@code .attn.qkv}, {@code .attn.proj}, {@code .attn}
 * (attention branch), {@code .norm2}, {@code .mlp.fc1}, {@code .mlp.fc2}, {@code .mlp} (FFN branch).
 */
final class VitBlock extends ModuleBlock {

    private final TokenSite tokens;
    private final BranchSite attn;
    private final BranchSite mlp;
    private final LayerScale ls1;
    private final LayerScale ls2;
    private final double dropPath;
    private final List<AdapterSite> sites = new ArrayList<>();

    VitBlock(VitSpec spec, int index, double dropPath, int prefixTokens, ParameterIndex keys) {
        String p = "blocks." + index;
        int d = spec.embedDim();
        this.dropPath = dropPath;
        NormSite norm1 = new NormSite(p + ".norm1", index, d, 1e-6f);
        Attention attention = new Attention(p + ".attn", index, d, spec.heads(), spec.qkvBias());
        NormSite norm2 = new NormSite(p + ".norm2", index, d, 1e-6f);
        Mlp ffn = new Mlp(p + ".mlp", index, d, spec.mlpHidden());
        tokens = child("tokens", new TokenSite(p, index, d, prefixTokens));
        attn = child("attn", new BranchSite(p + ".attn", SiteKind.ATTENTION, index, d, new NormThen(norm1, attention)));
        ls1 = spec.layerScaleInit() > 0 ? child("ls1", new LayerScale(d, spec.layerScaleInit())) : null;
        mlp = child("mlp", new BranchSite(p + ".mlp", SiteKind.FFN, index, d, new NormThen(norm2, ffn)));
        ls2 = spec.layerScaleInit() > 0 ? child("ls2", new LayerScale(d, spec.layerScaleInit())) : null;

        sites.addAll(List.of(tokens, norm1, attention.qkv(), attention.proj(), attn, norm2, ffn.fc1(), ffn.fc2(), mlp));
        keys.putSite(norm1);
        keys.putSite(attention.qkv());
        keys.putSite(attention.proj());
        if (ls1 != null) {
            keys.put(p + ".ls1.gamma", ls1.gamma());
        }
        keys.putSite(norm2);
        keys.putSite(ffn.fc1());
        keys.putSite(ffn.fc2());
        if (ls2 != null) {
            keys.put(p + ".ls2.gamma", ls2.gamma());
        }
    }

    List<AdapterSite> sites() {
        return sites;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = tokens.forward(store, inputs, training).singletonOrThrow();
        x = x.add(branch(store, attn, ls1, x, training));
        x = x.add(branch(store, mlp, ls2, x, training));
        return new NDList(x);
    }

    private NDArray branch(ParameterStore store, BranchSite site, LayerScale scale, NDArray x, boolean training) {
        NDList out = site.forward(store, new NDList(x), training);
        if (scale != null) {
            out = scale.forward(store, out, training);
        }
        return DropPath.apply(out.singletonOrThrow(), dropPath, training);
    }
}
