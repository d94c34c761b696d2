package org.peft4j.methods.mlae;

import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;

/**
 * MLAE, Masked LoRA Experts (Wang et al., ICLR 2025 submission): a rank-r update split into r rank-1
 * experts with learnable coefficients, trained under fixed, stochastic (expert-level dropout) or mixed
 * masks, and merged into the frozen weights for inference. Options: {@code peft4j.methods.mlae} in
 * reference.conf.
 */
public final class MlaeMethod implements PeftMethod {

    @Override
    public String id() {
        return "mlae";
    }

    @Override
    public String description() {
        return "MLAE: rank-1 LoRA experts with adaptive coefficients and expert-level masking "
                + "(stochastic, fixed, mixed; Table 10 presets), merged for zero-cost inference";
    }

    @Override
    public Tuner create(MethodContext context) {
        return new MlaeTuner(context, MlaeSettings.from(context));
    }
}
