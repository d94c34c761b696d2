package org.peft4j.methods.baselines.ssf;

import java.util.List;
import org.peft4j.api.MethodContext;

/** SSF's options (keys as in reference.conf), read and checked eagerly. */
public record SsfSettings(List<String> targets, List<Integer> layers, List<String> exclude, boolean frozenEval) {

    public static SsfSettings from(MethodContext ctx) {
        List<String> targets = ctx.settings().getStringList("targets");
        if (targets.isEmpty()) {
            throw ctx.invalid("targets", "is empty: name at least one LINEAR, NORM, CONV or IDENTITY site (\"**\" = all of them)");
        }
        return new SsfSettings(List.copyOf(targets), ctx.blockIndices("layers"),
                List.copyOf(ctx.settings().getStringList("exclude")), ctx.bool("frozen-eval"));
    }
}
