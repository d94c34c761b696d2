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
import org.peft4j.api.site.NormSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.backbone.layers.Conv2d;
import org.peft4j.backbone.layers.DropPath;
import org.peft4j.backbone.layers.LayerScale;
import org.peft4j.backbone.layers.Mlp;
import org.peft4j.backbone.layers.ParameterIndex;

/**
 * timm's {@code ConvNeXtBlock} (the {@code conv_mlp=False} path): depthwise 7x7 conv, then channels-last
 * LayerNorm, MLP and layer scale, back to channels-first, drop path and residual:
 * {@code x = x + dp(permute(gamma * mlp(norm(permute(conv_dw(x))))))}.
 *
 * <p>Sites (id prefix {@code stages.s.blocks.j}, depth = the block's index over all stages): {@code .norm}
 * (NORM), {@code .mlp.fc1}, {@code .mlp.fc2} (LINEAR), and {@code .mlp} (FFN branch). Unlike a ViT block, whose
 * FFN site reads the residual stream, the {@code .mlp} site's input is the <b>normed</b> channels-last tensor
 * {@code [B, H, W, C]} (the output of {@code .norm}, after its adapters) and its output is {@code mlp(input)},
 * before layer scale: the depthwise conv sits between the residual stream and the norm, so the normed tensor is
 * the MLP's real input. Parallel adapters (AdaptFormer, MoSA) thus see what they see in Swin's MLP.
 */
final class ConvNextBlock extends ModuleBlock {

    private final Conv2d convDw;
    private final NormSite norm;
    private final BranchSite mlp;
    private final Mlp ffn;
    private final LayerScale gamma;
    private final double dropPath;

    ConvNextBlock(String prefix, int depth, int dim, ConvNextSpec spec, double dropPath, ParameterIndex keys) {
        this.dropPath = dropPath;
        int pad = ConvNextSpec.KERNEL / 2;
        convDw = child("conv_dw", new Conv2d(dim, dim, ConvNextSpec.KERNEL, 1, pad, dim, true, Initializers.truncNormal(0.02)));
        norm = child("norm", new NormSite(prefix + ".norm", depth, dim, 1e-6f));
        ffn = new Mlp(prefix + ".mlp", depth, dim, spec.mlpHidden(dim));
        mlp = child("mlp", new BranchSite(prefix + ".mlp", SiteKind.FFN, depth, dim, ffn));
        gamma = spec.layerScaleInit() > 0 ? child("gamma", new LayerScale(dim, spec.layerScaleInit())) : null;

        keys.put(prefix + ".conv_dw.weight", convDw.weight());
        keys.put(prefix + ".conv_dw.bias", convDw.bias());
        keys.putSite(norm);
        keys.putSite(ffn.fc1());
        keys.putSite(ffn.fc2());
        if (gamma != null) {
            keys.put(prefix + ".gamma", gamma.gamma());
        }
    }

    /** This block's sites in forward order. */
    List<AdapterSite> sites() {
        return List.of(norm, ffn.fc1(), ffn.fc2(), mlp);
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray shortcut = inputs.singletonOrThrow();
        NDArray x = convDw.forward(store, inputs, training).singletonOrThrow().transpose(0, 2, 3, 1); // NHWC
        NDList branch = mlp.forward(store, norm.forward(store, new NDList(x), training), training);
        if (gamma != null) {
            branch = gamma.forward(store, branch, training); // per channel: the last dimension while channels-last
        }
        NDArray y = branch.singletonOrThrow().transpose(0, 3, 1, 2);
        return new NDList(shortcut.add(DropPath.apply(y, dropPath, training)));
    }
}
