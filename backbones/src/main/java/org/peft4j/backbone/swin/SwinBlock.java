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
import org.peft4j.api.site.ResidualSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.TokenSite;
import org.peft4j.backbone.layers.BranchOutput;
import org.peft4j.backbone.layers.Mlp;
import org.peft4j.backbone.layers.NormThen;
import org.peft4j.backbone.layers.ParameterIndex;
import org.peft4j.backbone.layers.StochasticDepth;

/**
 * timm's SwinTransformerBlock on {@code [B, H, W, C]}: {@code x = x + dp(attn(norm1(x)))} with (shifted)
 * window attention, then, on the tokens {@code [B, H*W, C]} as timm reshapes them, {@code x = x +
 * dp(mlp(norm2(x)))}. Sites: {@code layers.s.blocks.b} (TOKENS, prefix 0: {@code [prompts, patches]}), {@code
 * .norm1}, {@code .attn.qkv}, {@code .attn.proj}, {@code .attn} (ATTENTION branch), {@code .drop_path1} (its
 * residual), {@code .norm2}, {@code .mlp.fc1}, {@code .mlp.fc2}, {@code .mlp.inner} (MLP on norm2's output),
 * {@code .mlp} (FFN branch on {@code [B, H*W, C]}), {@code .drop_path2} (its residual).
 *
 * <p>Prompts (VPT's Swin variant): a block's input is {@code NDList(map)} or {@code NDList(map, prompts [B, P,
 * C])}. Once the TOKENS site has inserted prompts the block runs on the sequence {@code [prompts, patches]}:
 * norm1 and the MLP see every token, the window attention prepends the sample's prompts to each of its windows
 * and averages their outputs over the windows ({@link WindowAttention}); the output carries the prompts on.
 */
final class SwinBlock extends ModuleBlock {

    /** One block's shape and place. */
    record Config(String prefix, int depth, int dim, int heads, int hidden, int side, WindowGeometry geometry,
            boolean qkvBias, float eps, double dropPath) {}

    private final TokenSite tokens;
    private final ResidualSite attn;
    private final ResidualSite mlp;
    private final WindowAttention attention;
    private final List<AdapterSite> sites;

    SwinBlock(Config c, ParameterIndex keys, StochasticDepth stochastic) {
        String prefix = c.prefix();
        int depth = c.depth();
        NormSite norm1 = new NormSite(prefix + ".norm1", depth, c.dim(), c.eps());
        attention = new WindowAttention(prefix + ".attn", depth, c.dim(), c.heads(), c.geometry(), c.side(), c.qkvBias());
        NormSite norm2 = new NormSite(prefix + ".norm2", depth, c.dim(), c.eps());
        Mlp ffn = new Mlp(prefix + ".mlp", depth, c.dim(), c.hidden());
        tokens = child("tokens", new TokenSite(prefix, depth, c.dim(), 0));
        BranchSite attnBranch = new BranchSite(prefix + ".attn", SiteKind.ATTENTION, depth, c.dim(), new NormThen(norm1, attention));
        attn = child("attn", new ResidualSite(prefix + ".drop_path1", attnBranch, new BranchOutput(null, c.dropPath(), stochastic)));
        BranchSite mlpInner = new BranchSite(prefix + ".mlp.inner", SiteKind.MLP, depth, c.dim(), ffn);
        BranchSite mlpBranch = new BranchSite(prefix + ".mlp", SiteKind.FFN, depth, c.dim(), new NormThen(norm2, mlpInner));
        mlp = child("mlp", new ResidualSite(prefix + ".drop_path2", mlpBranch, new BranchOutput(null, c.dropPath(), stochastic)));
        sites = List.of(tokens, norm1, attention.qkv(), attention.proj(), attnBranch, attn, norm2, ffn.fc1(), ffn.fc2(), mlpInner,
                mlpBranch, mlp);

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
        NDArray x = inputs.get(0);
        NDArray prompts = inputs.size() > 1 ? inputs.get(1) : null;
        Shape s = x.getShape();
        if (prompts == null && tokens.adapters().isEmpty()) {
            NDArray a = attn.forward(store, new NDList(x), training).singletonOrThrow();
            x = x.add(a).reshape(s.get(0), s.get(1) * s.get(2), s.get(3));
            NDArray m = mlp.forward(store, new NDList(x), training).singletonOrThrow();
            return new NDList(x.add(m).reshape(s));
        }
        long patches = s.get(1) * s.get(2);
        NDArray seq = x.reshape(s.get(0), patches, s.get(3));
        if (prompts != null) {
            seq = prompts.concat(seq, 1);
        }
        seq = tokens.forward(store, new NDList(seq), training).singletonOrThrow();
        long p = seq.getShape().get(1) - patches;
        seq = seq.add(attn.forward(store, new NDList(seq), training).singletonOrThrow());
        seq = seq.add(mlp.forward(store, new NDList(seq), training).singletonOrThrow());
        NDArray map = seq.get(":, " + p + ":, :").reshape(s);
        return p == 0 ? new NDList(map) : new NDList(map, seq.get(":, :" + p + ", :"));
    }
}
