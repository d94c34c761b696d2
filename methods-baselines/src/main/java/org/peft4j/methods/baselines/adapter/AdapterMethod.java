package org.peft4j.methods.baselines.adapter;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;
import org.peft4j.methods.baselines.common.BottleneckAdapter;

/**
 * Serial bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2021) on the residual branches of each block:
 * {@code out' = out + scale * up(act(down(out)))} on the branch output, before the residual add (and before
 * layer scale / drop path, which the backbone applies to the site's output).
 *
 * <ul>
 *   <li>{@code style = houlsby}: one adapter on every ATTENTION and every FFN branch site;
 *   <li>{@code style = pfeiffer} (default): one adapter on every FFN branch site only.
 * </ul>
 *
 * <p>Choices, after the vision PEFT code the papers' "Adapter" rows come from: VPT's {@code vit_adapter} puts a
 * Pfeiffer adapter after the FFN ({@code x = ffn(norm(x)); x = x + up(gelu(down(x)))}, then the residual);
 * NOAH's Adapter baseline does the same with bottleneck 8, which gives the 0.16M trainable parameters the
 * ViT-B/16 VTAB tables list for "Adapter" (12 x (768 x 8 + 8 + 8 x 768 + 768) = 156,768); Houlsby doubles that.
 * Default init {@code zero} (down Kaiming-uniform, up and biases zero) starts at the frozen model exactly and
 * still trains both projections; VPT's own code zeroes down too, which leaves every weight without gradient
 * (only the up bias would move), so peft4j does not offer it. {@code xavier} is NOAH's init, {@code normal}
 * Houlsby's. Adapters never fold into weights: they stay at inference.
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
        Set<SiteKind> kinds = settings.houlsby() ? Set.of(SiteKind.ATTENTION, SiteKind.FFN) : Set.of(SiteKind.FFN);
        List<SiteSelector> selectors = new ArrayList<>();
        // one selector per kind: Houlsby on a model without ATTENTION sites is an error, not a silent Pfeiffer
        for (SiteKind kind : List.of(SiteKind.ATTENTION, SiteKind.FFN)) {
            if (kinds.contains(kind)) {
                selectors.add(SiteSelector.builder()
                        .setTargets(List.of("**"))
                        .setKinds(Set.of(kind))
                        .optLayers(settings.layers())
                        .optConfigKey("method.style = " + settings.style() + " / method.layers in "
                                + context.source() + " (adapter: every " + kind + " branch site)")
                        .build());
            }
        }
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                List<AdapterSite> sites = new ArrayList<>();
                for (SiteSelector selector : selectors) {
                    selector.select(model.name(), model.sites()).forEach(m -> sites.add(m.site()));
                }
                List<BottleneckAdapter> adapters = new ArrayList<>();
                for (AdapterSite site : sites) {
                    BottleneckAdapter adapter = new BottleneckAdapter("adapter", settings.spec(site.outFeatures()));
                    adapter.initialize(model.manager(), DataType.FLOAT32);
                    adapters.add(adapter);
                }
                for (int i = 0; i < sites.size(); i++) {
                    sites.get(i).attach(adapters.get(i));
                }
            }
        };
    }
}
