package org.peft4j.methods.baselines.adapter;

import java.util.List;
import org.peft4j.api.MethodContext;
import org.peft4j.methods.baselines.common.BottleneckAdapter;

/**
 * Options of the serial bottleneck adapter (keys as in reference.conf), read and checked eagerly.
 *
 * @param style {@code houlsby} (after the attention and the FFN branch) or {@code pfeiffer} (after the FFN only)
 */
public record AdapterSettings(String style, int bottleneck, BottleneckAdapter.Act activation,
        BottleneckAdapter.Init init, float scale, List<Integer> layers) {

    public static AdapterSettings from(MethodContext ctx) {
        String style = ctx.oneOf("style", "houlsby", "pfeiffer");
        int bottleneck = ctx.positiveInt("bottleneck");
        BottleneckAdapter.Act activation = BottleneckAdapter.Act.of(ctx.oneOf("activation", "gelu", "relu"));
        BottleneckAdapter.Init init = BottleneckAdapter.Init.of(ctx.oneOf("init", "zero", "xavier", "normal"));
        return new AdapterSettings(style, bottleneck, activation, init, ctx.finiteNonZero("scale"),
                ctx.blockIndices("layers"));
    }

    public boolean houlsby() {
        return style.equals("houlsby");
    }

    /** The adapter for a site of {@code features} width. */
    public BottleneckAdapter.Spec spec(int features) {
        return new BottleneckAdapter.Spec(features, bottleneck, BottleneckAdapter.Reads.OUTPUT, activation, init,
                scale, 0f, false);
    }
}
