package org.peft4j.methods.baselines.adapter;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;
import org.peft4j.methods.baselines.common.BottleneckTuner;

/**
 * Serial bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2021) on the residual branches of each block:
 * {@code h' = h + scale * up(dropout(act(down(LN?(h)))))}.
 *
 * <ul>
 *   <li>{@code style = houlsby}: one adapter on every attention and every FFN branch;
 *   <li>{@code style = pfeiffer} (default): one adapter on every FFN branch only.
 * </ul>
 *
 * {@code placement} says what {@code h} is: {@code after-drop-path} (default) the branch's output after layer scale
 * and drop path, before the residual add (NOAH's adapter, {@code x + adapter(drop_path(mlp(norm2(x))))}, and
 * AdaptFormer's sequential option); {@code inside} the branch output before them (VPT's {@code vit_adapter}, whose
 * ViT has neither); {@code after-add} the residual stream after the add (MoSA's Houlsby). Without layer scale and
 * drop path the first two are the same.
 *
 * <p>The field's variants as options: NOAH's Adapter row (0.16M on ViT-B/16 at bottleneck 8: 12 x (768 x 8 + 8 +
 * 8 x 768 + 768) = 156,768) is {@code activation = quick-gelu, dropout = 0.1, init = xavier} (NOAH also draws its
 * biases from N(0, 1e-6^2); peft4j starts them at 0); MoSA's Pfeiffer is {@code layernorm = in, activation = relu}
 * (1.21M at bottleneck 64); MoSA's Houlsby is {@code style = houlsby, placement = after-add, activation = silu}.
 * Default init {@code zero} (down Kaiming-uniform, up and biases zero) starts at the frozen model exactly and still
 * trains both projections; VPT's own code zeroes down too, which leaves every weight without gradient (only the up
 * bias would move), so peft4j does not offer it. Adapters never fold into weights: they stay at inference.
 */
public final class AdapterMethod implements PeftMethod {

    @Override
    public String id() {
        return "adapter";
    }

    @Override
    public String description() {
        return "bottleneck adapters after the FFN (pfeiffer) or after attention and FFN (houlsby)";
    }

    @Override
    public Tuner create(MethodContext context) {
        AdapterSettings settings = AdapterSettings.from(context);
        List<SiteKind> branches = settings.houlsby() ? List.of(SiteKind.ATTENTION, SiteKind.FFN) : List.of(SiteKind.FFN);
        List<SiteSelector> selectors = new ArrayList<>();
        // one selector per kind: Houlsby on a model without attention branches is an error, not a silent Pfeiffer
        for (SiteKind branch : branches) {
            SiteKind kind = settings.placement().siteKind(branch);
            selectors.add(SiteSelector.builder()
                    .setTargets(List.of("**"))
                    .setKinds(Set.of(kind))
                    .optLayers(settings.layers())
                    .optConfigKey("method.style = " + settings.style() + " / method.placement = "
                            + settings.placement().configName() + " / method.layers in " + context.source()
                            + " (adapter: every " + kind + " site)")
                    .build());
        }
        return new BottleneckTuner("adapter", selectors, site -> settings.spec(site.outFeatures()), settings.frozenEval());
    }
}
