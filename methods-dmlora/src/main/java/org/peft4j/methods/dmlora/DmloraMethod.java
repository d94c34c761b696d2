package org.peft4j.methods.dmlora;

import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;

/**
 * DMLoRA, Dropout-Mixture LoRA with the 2-Stage Learning Scalar (Fang et al., ECCV 2024): n down and n up LoRA
 * branches per site, one of each drawn per step, halved every k epochs; evaluated and merged as the mixture's mean;
 * an extra stage learns one scale per site. Options: {@code peft4j.methods.dmlora} in reference.conf.
 */
public final class DmloraMethod implements PeftMethod {

    @Override
    public String id() {
        return "dmlora";
    }

    @Override
    public String description() {
        return "DMLoRA: mixture of n down / n up LoRA branches randomly routed and halved during training "
                + "(schemes A-E, slow/fast presets), 2-stage learned scale, merged for zero-cost inference";
    }

    @Override
    public Tuner create(MethodContext context) {
        return new DmloraTuner(context, DmloraSettings.from(context));
    }
}
