package org.peft4j.backbone.convnext;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.List;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.NormSite;
import org.peft4j.api.site.ResidualSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.backbone.layers.BranchOutput;
import org.peft4j.backbone.layers.LayerScale;
import org.peft4j.backbone.layers.Mlp;
import org.peft4j.backbone.layers.ParameterIndex;
import org.peft4j.backbone.layers.StochasticDepth;

/**
 * timm's {@code ConvNeXtBlock} (the {@code conv_mlp=False} path): depthwise 7x7 conv, then channels-last
 * LayerNorm, MLP and layer scale, back to channels-first, drop path and residual:
 * {@code x = x + dp(permute(gamma * mlp(norm(permute(conv_dw(x))))))}.
 *
 * <p>Sites (id prefix {@code stages.s.blocks.j}, depth = the block's index over all stages): {@code .conv_dw}
 * (CONV, NCHW), {@code .norm} (NORM), {@code .mlp.fc1}, {@code .mlp.fc2} (LINEAR), {@code .mlp} (FFN branch) and
 * {@code .drop_path} (FFN_RESIDUAL: input = the FFN site's input, output = dp(gamma * mlp), channels-last).
 * Unlike a ViT block, whose FFN site reads the residual stream, the {@code .mlp} site's input is the <b>normed</b> channels-last tensor
 * {@code [B, H, W, C]} (the output of {@code .norm}, after its adapters) and its output is {@code mlp(input)},
 * before layer scale: the depthwise conv sits between the residual stream and the norm, so the normed tensor is
 * the MLP's real input. Parallel adapters (AdaptFormer, MoSA) thus see what they see in Swin's MLP.
 */
final class ConvNextBlock extends ModuleBlock {

    private final ConvSite convDw;
    private final NormSite norm;
    private final BranchSite mlp;
    private final ResidualSite residual;
    private final Mlp ffn;

    ConvNextBlock(String prefix, int depth, int dim, ConvNextSpec spec, double dropPath, ParameterIndex keys,
            StochasticDepth stochastic) {
        int pad = ConvNextSpec.KERNEL / 2;
        convDw = child("conv_dw", new ConvSite(prefix + ".conv_dw", depth,
                new ConvSite.Geometry(dim, dim, ConvNextSpec.KERNEL, 1, pad, dim), Initializers.truncNormal(0.02)));
        norm = child("norm", new NormSite(prefix + ".norm", depth, dim, 1e-6f));
        ffn = new Mlp(prefix + ".mlp", depth, dim, spec.mlpHidden(dim));
        mlp = new BranchSite(prefix + ".mlp", SiteKind.FFN, depth, dim, ffn);
        LayerScale gamma = spec.layerScaleInit() > 0 ? new LayerScale(dim, spec.layerScaleInit()) : null;
        // per channel: the last dimension while channels-last, so gamma and drop path run before the permute back
        residual = child("mlp", new ResidualSite(prefix + ".drop_path", mlp, new BranchOutput(gamma, dropPath, stochastic)));

        keys.putSite(convDw);
        keys.putSite(norm);
        keys.putSite(ffn.fc1());
        keys.putSite(ffn.fc2());
        if (gamma != null) {
            keys.put(prefix + ".gamma", gamma.gamma());
        }
    }

    /** This block's sites in forward order. */
    List<AdapterSite> sites() {
        return List.of(convDw, norm, ffn.fc1(), ffn.fc2(), mlp, residual);
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray shortcut = inputs.singletonOrThrow();
        NDArray x = convDw.forward(store, inputs, training).singletonOrThrow().transpose(0, 2, 3, 1); // NHWC
        NDArray branch = residual.forward(store, norm.forward(store, new NDList(x), training), training).singletonOrThrow();
        return new NDList(shortcut.add(branch.transpose(0, 3, 1, 2)));
    }
}
