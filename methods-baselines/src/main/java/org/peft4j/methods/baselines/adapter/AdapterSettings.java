package org.peft4j.methods.baselines.adapter;

import java.util.List;
import org.peft4j.api.MethodContext;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.site.Placement;
import org.peft4j.methods.baselines.common.BottleneckAdapter;

/**
 * Options of the serial bottleneck adapter (keys as in reference.conf), read and checked eagerly.
 *
 * @param style {@code houlsby} (after the attention and the FFN branch) or {@code pfeiffer} (after the FFN only)
 * @param placement where on each branch: inside, after-drop-path or after-add
 * @param layerNorm whether a trainable LayerNorm normalises the adapter's input
 * @param frozenEval whether the frozen backbone's drop path runs as at evaluation while training
 */
public record AdapterSettings(String style, Placement placement, int bottleneck, Bottleneck.Act activation,
        BottleneckAdapter.Init init, float scale, float dropout, boolean layerNorm, float layerNormEps,
        List<Integer> layers, boolean frozenEval) {

    public static AdapterSettings from(MethodContext ctx) {
        String style = ctx.oneOf("style", "houlsby", "pfeiffer");
        Placement placement = Placement.from(ctx, "placement", Placement.AFTER_DROP_PATH, Placement.INSIDE,
                Placement.AFTER_ADD);
        int bottleneck = ctx.positiveInt("bottleneck");
        Bottleneck.Act activation = Bottleneck.Act.of(ctx.oneOf("activation", Bottleneck.Act.names()));
        BottleneckAdapter.Init init = BottleneckAdapter.Init.of(ctx.oneOf("init", "zero", "xavier", "normal"));
        float dropout = (float) ctx.probability("dropout", 0.99);
        boolean layerNorm = ctx.oneOf("layernorm", "none", "in").equals("in");
        float eps = ctx.positiveNumber("layernorm-eps");
        return new AdapterSettings(style, placement, bottleneck, activation, init, ctx.finiteNonZero("scale"), dropout,
                layerNorm, eps, ctx.blockIndices("layers"), ctx.bool("frozen-eval"));
    }

    public boolean houlsby() {
        return style.equals("houlsby");
    }

    /** The adapter for a site of {@code features} width. */
    public BottleneckAdapter.Spec spec(int features) {
        Bottleneck.Reads reads = placement == Placement.AFTER_ADD
                ? Bottleneck.Reads.STREAM
                : Bottleneck.Reads.OUTPUT;
        return new BottleneckAdapter.Spec(features, bottleneck, reads, activation, init, scale, dropout, layerNorm,
                layerNormEps);
    }
}
