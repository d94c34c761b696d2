package org.peft4j.methods.baselines.adaptformer;

import java.util.List;
import org.peft4j.api.MethodContext;
import org.peft4j.methods.baselines.common.BottleneckAdapter;

/** AdaptFormer's options (keys as in reference.conf), read and checked eagerly. */
public record AdaptFormerSettings(int bottleneck, float scale, boolean layerNorm, float dropout,
        BottleneckAdapter.Act activation, List<Integer> layers) {

    public static AdaptFormerSettings from(MethodContext ctx) {
        int bottleneck = ctx.positiveInt("bottleneck");
        float scale = ctx.finiteNonZero("scale");
        boolean layerNorm = ctx.oneOf("layernorm", "none", "in").equals("in");
        float dropout = (float) ctx.probability("dropout", 0.99);
        BottleneckAdapter.Act activation = BottleneckAdapter.Act.of(ctx.oneOf("activation", "relu", "gelu"));
        return new AdaptFormerSettings(bottleneck, scale, layerNorm, dropout, activation, ctx.blockIndices("layers"));
    }

    /** The adapter for an FFN site of {@code features} width: parallel, AdaptFormer's "lora" init. */
    public BottleneckAdapter.Spec spec(int features) {
        return new BottleneckAdapter.Spec(features, bottleneck, BottleneckAdapter.Reads.INPUT, activation,
                BottleneckAdapter.Init.ZERO, scale, dropout, layerNorm);
    }
}
