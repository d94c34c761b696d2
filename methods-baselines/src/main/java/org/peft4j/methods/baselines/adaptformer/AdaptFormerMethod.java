package org.peft4j.methods.baselines.adaptformer;

import java.util.List;
import java.util.Set;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;
import org.peft4j.methods.baselines.common.BottleneckTuner;

/**
 * AdaptFormer (Chen et al. 2022): a bottleneck branch parallel to every FFN, {@code s * up(dropout(act(down(LN?(h)))))}
 * added to what the FFN contributes.
 *
 * <p>Placement ({@code placement}): {@code after-drop-path} (default) is AdaptFormer's code ({@code
 * models/custom_modules.py}: {@code x = residual + drop_path(mlp(norm2(residual))) + s * adapter(residual)}): the
 * adapter reads the FFN site's input and its output is added after the block's layer scale and drop path (the FFN
 * residual site). {@code inside} adds it to the FFN's output before layer scale and drop path, so both act on it
 * (peft4j's earlier placement; identical without layer scale and drop path, as in the ViT-B/16 setups of the
 * papers). {@code mlp} reads the MLP's
 * normed input inside the branch, under drop path: MoSA's Swin AdaptFormer ({@code swin_adapter.py}). What the FFN
 * site's input is depends on the family: the residual stream on ViT and Swin, the normed channels-last tensor on
 * ConvNeXt (which therefore has no separate MLP site).
 *
 * <p>Defaults follow the authors' code ({@code models/adapter.py} and the {@code tuning_config} of {@code
 * main_image.py}): bottleneck 64, scale 0.1, no extra LayerNorm ({@code ffn_adapter_layernorm_option = "none"};
 * {@code in} is its option, a trainable LayerNorm with eps 1e-5, {@code nn.LayerNorm}'s default; MoSA's uses
 * 1e-6), ReLU, dropout 0.1 on the hidden layer, init "lora": down Kaiming-uniform (a = sqrt 5), up weight and both
 * biases zero, so the model is unchanged at step 0. MoSA's AdaptFormer-style adapter is {@code layernorm = in,
 * layernorm-eps = 1e-6}. The adapter stays at inference.
 */
public final class AdaptFormerMethod implements PeftMethod {

    @Override
    public String id() {
        return "adaptformer";
    }

    @Override
    public String description() {
        return "AdaptFormer: a scaled bottleneck branch parallel to every FFN";
    }

    @Override
    public Tuner create(MethodContext context) {
        AdaptFormerSettings settings = AdaptFormerSettings.from(context);
        SiteKind kind = settings.placement().siteKind(SiteKind.FFN);
        SiteSelector selector = SiteSelector.builder()
                .setTargets(List.of("**"))
                .setKinds(Set.of(kind))
                .optLayers(settings.layers())
                .optConfigKey("method.placement = " + settings.placement().configName() + " / method.layers in "
                        + context.source() + " (adaptformer: every " + kind + " site"
                        + (kind == SiteKind.MLP ? "; ConvNeXt has none: its FFN site already reads the normed input" : "")
                        + ")")
                .build();
        return new BottleneckTuner("adaptformer", List.of(selector), site -> settings.spec(site.inFeatures()),
                settings.frozenEval());
    }
}
