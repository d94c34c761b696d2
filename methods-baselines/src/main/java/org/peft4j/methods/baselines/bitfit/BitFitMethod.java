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
 * <p>The runner's count of parameters requiring gradient is exactly the trained biases.
 */
public final class BitFitMethod implements PeftMethod {

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
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                Map<String, Parameter> biases = trainedBiases(model, normBias);
                if (biases.isEmpty()) {
                    throw new PeftException("bitfit: model " + model.name() + " has no backbone bias"
                            + (normBias ? "" : " outside its norms (method.norm-bias = false in " + context.source() + ")")
                            + " to train");
                }
                biases.values().forEach(p -> p.freeze(false));
            }
        };
    }

    /** The biases BitFit trains, by checkpoint key, in the model's order. */
    public static Map<String, Parameter> trainedBiases(AdaptableModel model, boolean normBias) {
        Set<Parameter> normBiases = Collections.newSetFromMap(new IdentityHashMap<>());
        for (AdapterSite site : model.sites()) {
            if (site.kind() == SiteKind.NORM) {
                site.bias().ifPresent(normBiases::add);
            }
        }
        Map<String, Parameter> chosen = new LinkedHashMap<>();
        model.backboneParameters().forEach((key, parameter) -> {
            if (key.endsWith(".bias") && (normBias || !(normBiases.contains(parameter) || namedNorm(key)))) {
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
