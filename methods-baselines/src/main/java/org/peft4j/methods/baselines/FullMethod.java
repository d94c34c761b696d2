package org.peft4j.methods.baselines;

import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;

/** Full fine-tuning: every backbone parameter trains (the papers' upper-cost reference). */
public final class FullMethod implements PeftMethod {

    @Override
    public String id() {
        return "full";
    }

    @Override
    public String description() {
        return "full fine-tuning: every backbone parameter trains";
    }

    @Override
    public Tuner create(MethodContext context) {
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                model.backboneParameters().values().forEach(p -> p.freeze(false));
            }
        };
    }
}
