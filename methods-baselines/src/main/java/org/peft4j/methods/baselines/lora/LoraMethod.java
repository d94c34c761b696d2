package org.peft4j.methods.baselines.lora;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;

/**
 * LoRA: low-rank updates of chosen linear layers ({@link LoraAdapter}) or convolutions ({@link LoraConvAdapter},
 * e.g. ConvNeXt's {@code conv_dw}), merged into them for inference.
 */
public final class LoraMethod implements PeftMethod {

    @Override
    public String id() {
        return "lora";
    }

    @Override
    public String description() {
        return "LoRA: low-rank weight updates (rank, alpha, targets), merged for zero-cost inference";
    }

    @Override
    public Tuner create(MethodContext context) {
        LoraSettings settings = LoraSettings.from(context);
        SiteSelector selector = SiteSelector.forMethod(context, settings.targets(), settings.layers(), settings.exclude(),
                EnumSet.of(SiteKind.LINEAR, SiteKind.CONV));
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                List<SiteSelector.Match> matches = selector.select(model.name(), model.sites());
                List<AdapterBlock> adapters = new ArrayList<>();
                for (SiteSelector.Match match : matches) {
                    AdapterSite site = match.site();
                    String name = match.slice() == null ? "lora" : "lora_" + match.slice().name();
                    AdapterBlock adapter = site instanceof ConvSite conv
                            ? new LoraConvAdapter(name, conv.geometry(), settings)
                            : new LoraAdapter(name, site.inFeatures(), site.outFeatures(), match.slice(), settings);
                    adapter.initialize(model.manager(), DataType.FLOAT32);
                    adapters.add(adapter);
                }
                for (int i = 0; i < matches.size(); i++) {
                    matches.get(i).site().attach(adapters.get(i));
                }
                model.setFrozenBackboneEval(settings.frozenEval());
            }
        };
    }
}
