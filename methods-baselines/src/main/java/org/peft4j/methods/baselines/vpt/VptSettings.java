package org.peft4j.methods.baselines.vpt;

import org.peft4j.api.MethodContext;

/**
 * VPT's options (keys as in reference.conf), read and checked eagerly.
 *
 * @param deep {@code mode = deep}: prompts at every block; {@code shallow}: at the first block only
 * @param prompts prompt tokens per prompted block
 * @param dropout dropout on the prompts during training
 */
public record VptSettings(boolean deep, int prompts, float dropout) {

    public static VptSettings from(MethodContext ctx) {
        boolean deep = ctx.oneOf("mode", "shallow", "deep").equals("deep");
        return new VptSettings(deep, ctx.positiveInt("prompts"), (float) ctx.probability("dropout", 0.99));
    }
}
