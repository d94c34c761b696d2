package org.peft4j.methods.baselines.ssf;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.SiteSelector;

/**
 * SSF (Lian et al. 2022): a learnable per-feature scale and shift after chosen operations, merged into them
 * for inference ({@link SsfAdapter}).
 *
 * <p>Defaults follow SSF's code ({@code dongzelian/SSF}, {@code models/*.py}): {@code targets = ["**"]} takes every
 * LINEAR, NORM, CONV and IDENTITY site, and {@code exclude} leaves out the three that code does not scale:
 * <ul>
 *   <li>ViT: {@code patch_embed.proj}, each block's {@code norm1}, {@code attn.qkv}, {@code attn.proj}, {@code
 *       norm2}, {@code mlp.fc1}, {@code mlp.fc2}, and the final {@code norm}; under average pooling the tokens
 *       before pooling (the IDENTITY site {@code norm}), not the pooled {@code fc_norm};
 *   <li>Swin: the same per block, {@code patch_embed.proj} and {@code .norm}, each {@code downsample.norm} but not
 *       the bias-free {@code downsample.reduction} (its shift could not fold), and the final {@code norm};
 *   <li>ConvNeXt: {@code stem.0} and {@code stem.1}, every block's {@code conv_dw}, {@code norm}, {@code mlp.fc1},
 *       {@code mlp.fc2}, each downsample's norm and conv, and the feature map before pooling ({@code norm_pre}), not
 *       the pooled {@code head.norm}: 260,608 parameters on ConvNeXt-B.
 * </ul>
 * The scale and shift on an IDENTITY site (before pooling) have nothing to fold into and stay at inference, as in
 * SSF's code. Targets that name an output slice ({@code attn.qkv:q}) are refused: SSF scales whole outputs.
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
                SsfAdapter.KINDS);
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
                model.setFrozenBackboneEval(settings.frozenEval());
            }
        };
    }
}
