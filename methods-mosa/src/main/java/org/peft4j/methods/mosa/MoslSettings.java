package org.peft4j.methods.mosa;

import java.util.List;
import java.util.Map;
import org.peft4j.api.MethodContext;
import org.peft4j.api.nn.LowRankInit;

/** MoSL's options (keys as in reference.conf), read and checked eagerly; the shared ones in {@link MixtureSettings}. */
public record MoslSettings(List<String> targets, List<Integer> layers, List<String> exclude, int rank, float scale,
        float dropout, LowRankInit init, MixtureSettings mixture) {

    public MoslSettings {
        targets = List.copyOf(targets);
        layers = List.copyOf(layers);
        exclude = List.copyOf(exclude);
    }

    public static MoslSettings from(MethodContext ctx) {
        int rank = ctx.positiveInt("rank");
        float scale = ctx.finiteNonZero("scale");
        float dropout = (float) ctx.probability("dropout", 0.99);
        LowRankInit init = LowRankInit.from(ctx, "init");
        Split split = Split.of(ctx.oneOf("split", "hierarchical", "sparse-down", "all-sparse", "dense"));
        MixtureSettings mixture = MixtureSettings.from(ctx, split);
        return new MoslSettings(ctx.settings().getStringList("targets"), ctx.blockIndices("layers"),
                ctx.settings().getStringList("exclude"), rank, scale, dropout, init, mixture);
    }

    public MosaAdapter.Layout layout() {
        return new MosaAdapter.Layout(mixture.experts(), mixture.split(), true);
    }

    /** The LoRA options in force, for the run's metrics. */
    public Map<String, Object> describe() {
        return Map.of("rank", rank, "scale", Double.parseDouble(Float.toString(scale)),
                "dropout", Double.parseDouble(Float.toString(dropout)), "init", init.name().toLowerCase(java.util.Locale.ROOT));
    }
}
