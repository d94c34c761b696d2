package org.peft4j.methods.baselines;

import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;

/** Linear probing: the backbone stays frozen, only the classifier trains. */
public final class LinearMethod implements PeftMethod {

    @Override
    public String id() {
        return "linear";
    }

    @Override
    public String description() {
        return "linear probing: only the classifier trains";
    }

    @Override
    public Tuner create(MethodContext context) {
        boolean frozenEval = context.bool("frozen-eval");
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                // the runner froze the backbone and left the head trainable: nothing to unfreeze
                model.setFrozenBackboneEval(frozenEval);
            }
        };
    }
}
