package org.peft4j.methods.baselines.ssf;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;

/**
 * SSF (Lian et al. 2022): a learnable per-feature scale and shift after chosen operations, merged into them
 * for inference ({@link SsfAdapter}).
 *
 * <p>Default {@code targets = ["**"]}: every LINEAR and NORM site of the backbone. On ViT that is exactly
 * where SSF's code ({@code dongzelian/SSF}, {@code models/vision_transformer.py}) puts {@code ssf_ada}: after
 * {@code patch_embed.proj}, each block's {@code norm1}, {@code attn.qkv}, {@code attn.proj}, {@code norm2},
 * {@code mlp.fc1}, {@code mlp.fc2}, and after the final norm; the head is not a backbone site. Targets that name
 * an output slice ({@code attn.qkv:q}) are refused: SSF scales whole outputs.
 */
public final class SsfMethod implements PeftMethod {

    @Override
    public String id() {
        return "ssf";
    }

    @Override
    public String description() {
        return "SSF: learnable scale and shift after linear layers and norms, merged into them for inference";
    }

    @Override
    public Tuner create(MethodContext context) {
        SsfSettings settings = SsfSettings.from(context);
        SiteSelector selector = SiteSelector.forMethod(context, settings.targets(), settings.layers(), settings.exclude(),
                Set.of(SiteKind.LINEAR, SiteKind.NORM));
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                List<SiteSelector.Match> matches = selector.select(model.name(), model.sites());
                for (SiteSelector.Match match : matches) {
                    if (match.slice() != null) {
                        throw new PeftException("method.targets in " + context.source() + ": target '"
                                + match.target() + "' names output slice " + match.slice().name() + " of "
                                + match.site().id() + ", but SSF scales and shifts whole outputs");
                    }
                }
                List<SsfAdapter> adapters = new ArrayList<>();
                for (SiteSelector.Match match : matches) {
                    SsfAdapter adapter = new SsfAdapter(match.site().outFeatures(), match.site().kind(),
                            match.site().bias().isPresent());
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
