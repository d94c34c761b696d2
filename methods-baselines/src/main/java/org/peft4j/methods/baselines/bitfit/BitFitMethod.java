package org.peft4j.methods.baselines.bitfit;

import ai.djl.nn.Parameter;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteKind;

/**
 * BitFit (Ben Zaken et al. 2021): only the backbone's bias terms train, i.e. the entries of {@link
 * AdaptableModel#backboneParameters()} whose key ends in {@code .bias}; no module is added.
 *
 * <p>{@code norm-bias} (default true) says whether LayerNorm biases count. True follows BitFit, which trains
 * every bias of BERT including the LayerNorm ones, and VPT's "Bias" baseline ({@code tinytl-bias}: every
 * parameter whose name contains {@code bias}); on ViT-B/16 that is 102,912 parameters, the 0.10M the VTAB
 * tables list (without the norms it would be 83,712). A bias is a norm bias if it is the bias of a NORM site or
 * its module name (the key segment before {@code .bias}) contains {@code norm} (timm's names for norms that are
 * not sites).
 *
 * <p>{@code relative-position-bias} (default true): Swin's {@code relative_position_bias_table}s train too, as
 * the VPT and MoSA "Bias" baselines do (their name contains {@code bias}); Swin-B then trains 0.20M parameters.
 *
 * <p>The runner's count of parameters requiring gradient is exactly the trained biases.
 */
public final class BitFitMethod implements PeftMethod {

    /** The key suffix of Swin's learned relative position biases. */
    static final String RELATIVE_POSITION_BIAS = ".relative_position_bias_table";

    @Override
    public String id() {
        return "bitfit";
    }

    @Override
    public String description() {
        return "BitFit: only the backbone's bias terms train";
    }

    @Override
    public Tuner create(MethodContext context) {
        boolean normBias = context.bool("norm-bias");
        boolean relativePositionBias = context.bool("relative-position-bias");
        boolean frozenEval = context.bool("frozen-eval");
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                Map<String, Parameter> biases = trainedBiases(model, normBias, relativePositionBias);
                if (biases.isEmpty()) {
                    throw new PeftException("bitfit: model " + model.name() + " has no backbone bias"
                            + (normBias ? "" : " outside its norms (method.norm-bias = false in " + context.source() + ")")
                            + " to train");
                }
                biases.values().forEach(p -> p.freeze(false));
                model.setFrozenBackboneEval(frozenEval);
            }
        };
    }

    /** The biases BitFit trains, by checkpoint key, in the model's order. */
    public static Map<String, Parameter> trainedBiases(AdaptableModel model, boolean normBias, boolean relativePositionBias) {
        Set<Parameter> normBiases = Collections.newSetFromMap(new IdentityHashMap<>());
        for (AdapterSite site : model.sites()) {
            if (site.kind() == SiteKind.NORM) {
                site.bias().ifPresent(normBiases::add);
            }
        }
        Map<String, Parameter> chosen = new LinkedHashMap<>();
        model.backboneParameters().forEach((key, parameter) -> {
            boolean bias = key.endsWith(".bias") && (normBias || !(normBiases.contains(parameter) || namedNorm(key)));
            if (bias || relativePositionBias && key.endsWith(RELATIVE_POSITION_BIAS)) {
                chosen.put(key, parameter);
            }
        });
        return chosen;
    }

    private static boolean namedNorm(String key) {
        String module = key.substring(0, key.length() - ".bias".length());
        String last = module.substring(module.lastIndexOf('.') + 1);
        return last.contains("norm");
    }
}
