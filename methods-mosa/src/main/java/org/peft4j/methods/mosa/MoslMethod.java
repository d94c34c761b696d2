package org.peft4j.methods.mosa;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;

/**
 * MoSL, MoSA on LoRA (the paper's Table 5; the authors' {@code vit_mosl.py}): LoRA on q and v (rank 16, scale 1, no
 * alpha/r) with A and B split into N sparse experts, drawn independently per projection and pass, trained with the
 * same consistency loss and merged as {@code mean(B) mean(A)} into the frozen weights (zero inference cost). Options:
 * {@code peft4j.methods.mosl} in reference.conf.
 */
public final class MoslMethod implements PeftMethod {

    @Override
    public String id() {
        return "mosl";
    }

    @Override
    public String description() {
        return "MoSL: LoRA whose A and B are split into N sparse experts (MoSA's training), merged into the weights "
                + "for zero-cost inference";
    }

    @Override
    public Tuner create(MethodContext context) {
        MoslSettings settings = MoslSettings.from(context);
        SiteSelector selector = SiteSelector.forMethod(context, settings.targets(), settings.layers(), settings.exclude(),
                EnumSet.of(SiteKind.LINEAR));
        return new MixtureTuner(id(), settings.mixture(), settings.describe(), model -> attach(model, settings, selector, context.seed()));
    }

    private static List<MixtureAdapter> attach(AdaptableModel model, MoslSettings settings, SiteSelector selector, long seed) {
        List<SiteSelector.Match> matches = selector.select(model.name(), model.sites());
        Random masks = MosaMethod.maskStream(seed);
        List<MixtureAdapter> adapters = new ArrayList<>();
        for (SiteSelector.Match match : matches) {
            String name = match.slice() == null ? "mosl" : "mosl_" + match.slice().name();
            int rows = match.slice() == null ? match.site().outFeatures() : match.slice().size();
            MoslAdapter adapter = new MoslAdapter(name, new MoslAdapter.Structure(match.site().inFeatures(), rows,
                    match.slice(), settings.rank(), settings.scale(), settings.dropout(), settings.init()),
                    settings.layout(), settings.mixture().merge(), masks);
            adapter.initialize(model.manager(), DataType.FLOAT32);
            adapters.add(adapter);
        }
        for (int i = 0; i < matches.size(); i++) {
            matches.get(i).site().attach(adapters.get(i));
        }
        return adapters;
    }
}
