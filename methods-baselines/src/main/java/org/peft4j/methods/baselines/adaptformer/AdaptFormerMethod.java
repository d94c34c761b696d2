package org.peft4j.methods.baselines.adaptformer;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;
import org.peft4j.methods.baselines.common.BottleneckAdapter;

/**
 * AdaptFormer (Chen et al. 2022): a bottleneck branch parallel to every FFN. On each FFN branch site, which
 * reads the residual stream {@code x} and outputs {@code mlp(norm2(x))}:
 * {@code out' = out + s * up(dropout(act(down(LN?(x)))))}.
 *
 * <p>Defaults follow the authors' code ({@code ShoufaChen/AdaptFormer}, {@code models/adapter.py} and the
 * {@code tuning_config} of {@code main_image.py}): bottleneck 64, scale 0.1, no extra LayerNorm
 * ({@code ffn_adapter_layernorm_option = "none"}), ReLU, dropout 0.1 on the hidden layer (the block builds the
 * adapter with {@code dropout=0.1}; MoSA's code uses the same 0.1), init "lora": down Kaiming-uniform
 * (a = sqrt 5), up weight and both biases zero, so the model is unchanged at step 0. MoSA's AdaptFormer-style
 * adapter differs in two options peft4j exposes: {@code layernorm = in} (a trainable LayerNorm on the input,
 * eps 1e-5) and {@code activation = gelu}.
 *
 * <p>One difference to the reference: there the adapter output is added after the FFN's drop path; here it is
 * part of the site output, so the backbone's layer scale and drop path (if any) apply to it too. With drop path
 * 0 and no layer scale (the ViT-B/16 setups of the papers) both are identical. The adapter stays at inference.
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
        SiteSelector selector = SiteSelector.builder()
                .setTargets(List.of("**"))
                .setKinds(Set.of(SiteKind.FFN))
                .optLayers(settings.layers())
                .optConfigKey("method.layers in " + context.source() + " (adaptformer: every FFN branch site)")
                .build();
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                List<SiteSelector.Match> matches = selector.select(model.name(), model.sites());
                List<BottleneckAdapter> adapters = new ArrayList<>();
                for (SiteSelector.Match match : matches) {
                    BottleneckAdapter adapter =
                            new BottleneckAdapter("adaptformer", settings.spec(match.site().inFeatures()));
                    adapter.initialize(model.manager(), DataType.FLOAT32);
                    adapters.add(adapter);
                }
                for (int i = 0; i < matches.size(); i++) {
                    matches.get(i).site().attach(adapters.get(i));
                }
            }
        };
    }
}
