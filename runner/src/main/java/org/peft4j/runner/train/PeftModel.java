package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.peft4j.api.Intermediates;
import org.peft4j.api.Backbone;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterSite;

/**
 * A backbone with a method attached: the forward pass, the named parameters (backbone keys as in
 * checkpoints, adapter keys {@code <site id>.<adapter>.<parameter>}), and merge / unmerge of every site.
 */
public final class PeftModel {

    private final Backbone backbone;
    private final Tuner tuner;
    private final TrainingHooks hooks;
    private final ParameterStore store;

    private PeftModel(Backbone backbone, Tuner tuner) {
        this.backbone = backbone;
        this.tuner = tuner;
        this.hooks = tuner.hooks(); // asked once: the trainer and every step see the same hooks object
        this.store = new ParameterStore(backbone.manager(), false);
    }

    /** Freezes the backbone, leaves the head trainable and lets the method attach. */
    public static PeftModel assemble(Backbone backbone, Tuner tuner) {
        backbone.backboneParameters().values().forEach(p -> p.freeze(true));
        backbone.headParameters().values().forEach(p -> p.freeze(false));
        tuner.attach(backbone);
        return new PeftModel(backbone, tuner);
    }

    public Backbone backbone() {
        return backbone;
    }

    public Tuner tuner() {
        return tuner;
    }

    /** The method's training hooks. */
    public TrainingHooks hooks() {
        return hooks;
    }

    public NDArray logits(NDArray images, boolean training) {
        return backbone.block().forward(store, new NDList(images), training).singletonOrThrow();
    }

    /** The training-mode forward pass handed to {@link TrainingHooks#loss}. */
    public TrainingHooks.Forward trainingForward() {
        return new TrainingHooks.Forward() {
            @Override
            public NDArray logits(NDArray images) {
                return PeftModel.this.logits(images, true);
            }

            @Override
            public Intermediates withBlocks(NDArray images, Set<Integer> depths) {
                return backbone.forwardIntermediates(store, images, true, depths);
            }
        };
    }

    /** Every parameter by name: backbone and head by checkpoint key, then adapters. */
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> all = new LinkedHashMap<>(backbone.parameters());
        for (AdapterSite site : backbone.sites()) {
            for (Adapter adapter : site.adapters()) {
                for (Pair<String, Parameter> p : adapter.getParameters()) {
                    all.put(site.id() + "." + adapter.name() + "." + p.getKey(), p.getValue());
                }
            }
        }
        return all;
    }

    /** The parameters that train now (require gradient). */
    public Map<String, Parameter> trainable() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        parameters().forEach((k, p) -> {
            if (p.requiresGradient()) {
                out.put(k, p);
            }
        });
        return out;
    }

    /**
     * What a run saves as its adapter: the head, every adapter parameter, trainable now or not (DMLoRA freezes its
     * branches and the head for its scale stage, yet they are part of the result), and any backbone parameter that
     * trains.
     */
    public Map<String, Parameter> savedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        Map<String, Parameter> frozenBackbone = new LinkedHashMap<>(backbone.parameters());
        frozenBackbone.keySet().removeAll(backbone.headParameters().keySet());
        parameters().forEach((k, p) -> {
            if (p.requiresGradient() || !frozenBackbone.containsKey(k)) {
                out.put(k, p);
            }
        });
        return out;
    }

    /** Trainable parameter count in the backbone (head excluded): the papers' "# param" column. */
    public long trainableBackboneParameters() {
        long counted = 0;
        for (Map.Entry<String, Parameter> e : trainable().entrySet()) {
            if (!backbone.headParameters().containsKey(e.getKey())) {
                counted += e.getValue().getArray().size();
            }
        }
        return tuner.reportedParameterCount(counted);
    }

    /**
     * A short-lived child of the model's manager that borrows every parameter (and {@code extra}, e.g.
     * optimiser state) while it is open. DJL puts an op's result in its first operand's manager, so whatever a
     * batch creates, even from a parameter, dies with the scope.
     */
    public NDManager openScope(List<NDArray> extra) {
        List<NDArray> borrowed = new ArrayList<>(extra);
        for (Parameter p : parameters().values()) {
            if (p.isInitialized()) {
                borrowed.add(p.getArray());
            }
        }
        NDManager scope = backbone.manager().newSubManager();
        scope.tempAttachAll(borrowed.toArray(new NDArray[0]));
        return scope;
    }

    public NDManager openScope() {
        return openScope(List.of());
    }

    public void merge() {
        backbone.sites().forEach(AdapterSite::merge);
    }

    public void unmerge() {
        backbone.sites().forEach(AdapterSite::unmerge);
    }
}
