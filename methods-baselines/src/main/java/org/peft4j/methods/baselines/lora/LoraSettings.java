package org.peft4j.methods.baselines.lora;

import java.util.List;
import org.peft4j.api.MethodContext;
import org.peft4j.api.nn.LowRankInit;

/** LoRA's options, read and checked eagerly (keys as in reference.conf). */
public record LoraSettings(int rank, double alpha, double dropout, List<String> targets, List<Integer> layers,
        List<String> exclude, LowRankInit init, boolean frozenEval) {

    public static LoraSettings from(MethodContext ctx) {
        LowRankInit init = LowRankInit.from(ctx, "init");
        double alpha = ctx.settings().getDouble("alpha");
        if (alpha <= 0) {
            throw ctx.invalid("alpha", "must be > 0, got " + alpha);
        }
        return new LoraSettings(ctx.positiveInt("rank"), alpha, ctx.probability("dropout", 0.99),
                ctx.settings().getStringList("targets"), ctx.blockIndices("layers"),
                ctx.settings().getStringList("exclude"), init, ctx.bool("frozen-eval"));
    }

    public float scale() {
        return (float) (alpha / rank);
    }
}
