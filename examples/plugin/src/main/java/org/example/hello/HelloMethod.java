package org.example.hello;

import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;

/** A method shipped as a plugin jar: besides the classifier, it trains one backbone tensor named in config. */
public final class HelloMethod implements PeftMethod {

    @Override
    public String id() {
        return "hello";
    }

    @Override
    public String description() {
        return "hello plugin: trains one backbone tensor (default: the final norm's weight)";
    }

    @Override
    public Tuner create(MethodContext context) {
        String key = context.settings().getString("parameter");
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                if (!model.backboneParameters().containsKey(key)) {
                    throw context.invalid("parameter", model.name() + " has no tensor '" + key + "'");
                }
                model.backboneParameters().get(key).freeze(false);
            }
        };
    }
}
