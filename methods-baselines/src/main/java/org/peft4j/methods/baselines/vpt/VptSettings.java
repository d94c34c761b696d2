package org.peft4j.methods.baselines.vpt;

import org.peft4j.api.MethodContext;

/**
 * VPT's options (keys as in reference.conf), read and checked eagerly.
 *
 * @param deep {@code mode = deep}: prompts at every block; {@code shallow}: at the first block only
 * @param prompts prompt tokens per prompted block
 * @param dropout dropout on the prompts during training
 * @param poolPrompts on average-pooled models, whether the prompts join the mean (VPT's code: yes)
 * @param frozenEval whether the frozen backbone's drop path runs as at evaluation while training (VPT's code: yes)
 */
public record VptSettings(boolean deep, int prompts, float dropout, boolean poolPrompts, boolean frozenEval) {

    public static VptSettings from(MethodContext ctx) {
        boolean deep = ctx.oneOf("mode", "shallow", "deep").equals("deep");
        return new VptSettings(deep, ctx.positiveInt("prompts"), (float) ctx.probability("dropout", 0.99),
                ctx.bool("pool-prompts"), ctx.bool("frozen-eval"));
    }
}
