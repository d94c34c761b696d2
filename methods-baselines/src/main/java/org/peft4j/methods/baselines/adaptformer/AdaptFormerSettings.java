package org.peft4j.methods.baselines.adaptformer;

import java.util.List;
import org.peft4j.api.MethodContext;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.site.Placement;
import org.peft4j.methods.baselines.common.BottleneckAdapter;

/**
 * AdaptFormer's options (keys as in reference.conf), read and checked eagerly.
 *
 * @param placement after-drop-path (AdaptFormer's code), inside, or mlp (MoSA's Swin: the MLP's normed input)
 * @param frozenEval whether the frozen backbone's drop path runs as at evaluation while training
 */
public record AdaptFormerSettings(int bottleneck, float scale, boolean layerNorm, float layerNormEps, float dropout,
        Bottleneck.Act activation, Placement placement, List<Integer> layers, boolean frozenEval) {

    public static AdaptFormerSettings from(MethodContext ctx) {
        int bottleneck = ctx.positiveInt("bottleneck");
        float scale = ctx.finiteNonZero("scale");
        boolean layerNorm = ctx.oneOf("layernorm", "none", "in").equals("in");
        float eps = ctx.positiveNumber("layernorm-eps");
        float dropout = (float) ctx.probability("dropout", 0.99);
        Bottleneck.Act activation = Bottleneck.Act.of(ctx.oneOf("activation", "relu", "gelu"));
        Placement placement = Placement.from(ctx, "placement", Placement.AFTER_DROP_PATH, Placement.INSIDE, Placement.MLP);
        return new AdaptFormerSettings(bottleneck, scale, layerNorm, eps, dropout, activation, placement,
                ctx.blockIndices("layers"), ctx.bool("frozen-eval"));
    }

    /** The adapter for a site of {@code features} width: parallel (reads the site's input), AdaptFormer's "lora" init. */
    public BottleneckAdapter.Spec spec(int features) {
        return new BottleneckAdapter.Spec(features, bottleneck, Bottleneck.Reads.INPUT, activation,
                BottleneckAdapter.Init.ZERO, scale, dropout, layerNorm, layerNormEps);
    }
}
