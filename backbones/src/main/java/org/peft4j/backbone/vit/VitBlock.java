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
import org.peft4j.api.site.ResidualSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.TokenSite;
import org.peft4j.backbone.layers.BranchOutput;
import org.peft4j.backbone.layers.LayerScale;
import org.peft4j.backbone.layers.Mlp;
import org.peft4j.backbone.layers.NormThen;
import org.peft4j.backbone.layers.ParameterIndex;
import org.peft4j.backbone.layers.StochasticDepth;

/**
 * A pre-norm transformer block: {@code x = x + dp(ls1(attn(norm1(x)))); x = x + dp(ls2(mlp(norm2(x))))}.
 * Sites: {@code blocks.i} (tokens), {@code .norm1}, {@code .attn.qkv}, {@code .attn.proj}, {@code .attn}
 * (attention branch), {@code .drop_path1} (its residual: after ls1 and drop path), {@code .norm2}, {@code
 * .mlp.fc1}, {@code .mlp.fc2}, {@code .mlp.inner} (the MLP on norm2's output), {@code .mlp} (FFN branch), {@code
 * .drop_path2} (its residual).
 */
final class VitBlock extends ModuleBlock {

    private final TokenSite tokens;
    private final ResidualSite attn;
    private final ResidualSite mlp;
    private final List<AdapterSite> sites = new ArrayList<>();

    VitBlock(VitSpec spec, int index, double dropPath, int prefixTokens, ParameterIndex keys, StochasticDepth stochastic) {
        String p = "blocks." + index;
        int d = spec.embedDim();
        NormSite norm1 = new NormSite(p + ".norm1", index, d, 1e-6f);
        Attention attention = new Attention(p + ".attn", index, d, spec.heads(), spec.qkvBias());
        NormSite norm2 = new NormSite(p + ".norm2", index, d, 1e-6f);
        Mlp ffn = new Mlp(p + ".mlp", index, d, spec.mlpHidden());
        LayerScale ls1 = spec.layerScaleInit() > 0 ? new LayerScale(d, spec.layerScaleInit()) : null;
        LayerScale ls2 = spec.layerScaleInit() > 0 ? new LayerScale(d, spec.layerScaleInit()) : null;
        tokens = child("tokens", new TokenSite(p, index, d, prefixTokens));
        BranchSite attnBranch = new BranchSite(p + ".attn", SiteKind.ATTENTION, index, d, new NormThen(norm1, attention));
        attn = child("attn", new ResidualSite(p + ".drop_path1", attnBranch, new BranchOutput(ls1, dropPath, stochastic)));
        BranchSite mlpInner = new BranchSite(p + ".mlp.inner", SiteKind.MLP, index, d, ffn);
        BranchSite mlpBranch = new BranchSite(p + ".mlp", SiteKind.FFN, index, d, new NormThen(norm2, mlpInner));
        mlp = child("mlp", new ResidualSite(p + ".drop_path2", mlpBranch, new BranchOutput(ls2, dropPath, stochastic)));

        sites.addAll(List.of(tokens, norm1, attention.qkv(), attention.proj(), attnBranch, attn, norm2, ffn.fc1(), ffn.fc2(),
                mlpInner, mlpBranch, mlp));
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
        x = x.add(attn.forward(store, new NDList(x), training).singletonOrThrow());
        x = x.add(mlp.forward(store, new NDList(x), training).singletonOrThrow());
        return new NDList(x);
    }
}
