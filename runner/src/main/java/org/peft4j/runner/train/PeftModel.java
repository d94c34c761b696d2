package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Map;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.ParameterValues;
import java.util.Set;
import org.peft4j.api.Intermediates;
import org.peft4j.api.Backbone;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.Precision;
import org.peft4j.api.Tuner;
import org.peft4j.api.nn.Cast;
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
    private final WeightCasts store;
    /** Backbone parameters that were trainable at some point of this run (full, BitFit, a stage that unfroze them). */
    private final Set<String> trainedBackbone = new LinkedHashSet<>();
    private Precision precision = Precision.FP32;

    private PeftModel(Backbone backbone, Tuner tuner) {
        this.backbone = backbone;
        this.tuner = tuner;
        this.hooks = tuner.hooks(); // asked once: the trainer and every step see the same hooks object
        this.store = new WeightCasts(backbone.manager());
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

    /**
     * Trains and evaluates in {@code precision} from now on: under fp16 the frozen weights are converted to fp16
     * once, here (call it after the method has attached).
     */
    public PeftModel usePrecision(Precision precision) {
        this.precision = precision;
        precision.convertFrozen(backbone.block());
        return this;
    }

    public Precision precision() {
        return precision;
    }

    /**
     * For one training step, in its gradient collector: under fp16, every trainable weight's fp16 copy, made in one
     * call and read by the forward passes until closed; nothing in fp32.
     */
    WeightCasts.Active castTrainable(NDManager scope) {
        if (precision.computeType() == DataType.FLOAT32) {
            return () -> {};
        }
        return store.cast(List.copyOf(trainable().values()), precision.computeType(), scope);
    }

    /** Logits in fp32 (whatever the precision; the cast keeps their gradient) for float images of any type. */
    public NDArray logits(NDArray images, boolean training) {
        NDArray logits = backbone.block().forward(store, new NDList(input(images)), training).singletonOrThrow();
        return Cast.to(logits, DataType.FLOAT32);
    }

    /** Images in the compute type; they need no gradient, so a plain cast does. */
    private NDArray input(NDArray images) {
        return images.toType(precision.computeType(), false);
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
                return backbone.forwardIntermediates(store, input(images), true, depths);
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

    /** Records which backbone parameters train now, so that saving keeps them even if a later stage freezes them. */
    public void noteTrained() {
        Map<String, Parameter> head = backbone.headParameters();
        backbone.backboneParameters().forEach((k, p) -> {
            if (p.requiresGradient() && !head.containsKey(k)) {
                trainedBackbone.add(k);
            }
        });
    }

    /**
     * What an adapter file and a checkpoint keep: every adapter parameter, the head, and the backbone parameters
     * this run trained (frozen backbone weights come from the backbone's own checkpoint).
     */
    public Map<String, Parameter> savedParameters() {
        noteTrained();
        Map<String, Parameter> all = parameters();
        Map<String, Parameter> saved = new LinkedHashMap<>();
        all.forEach((k, p) -> {
            boolean frozenBackbone = backbone.backboneParameters().containsKey(k) && !trainedBackbone.contains(k);
            if (!frozenBackbone && p.isInitialized()) {
                saved.put(k, p);
            }
        });
        return saved;
    }

    /** The arrays of {@link #savedParameters()} (live views). */
    public Map<String, NDArray> savedArrays() {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        savedParameters().forEach((k, p) -> arrays.put(k, p.getArray()));
        return arrays;
    }

    /** Sets saved values by name; every saved parameter must be present, and nothing else. */
    public void restore(Map<String, NDArray> values) {
        Map<String, Parameter> saved = savedParameters();
        if (!saved.keySet().equals(values.keySet())) {
            Set<String> missing = new LinkedHashSet<>(saved.keySet());
            missing.removeAll(values.keySet());
            Set<String> unexpected = new LinkedHashSet<>(values.keySet());
            unexpected.removeAll(saved.keySet());
            throw new PeftException("saved tensors do not fit this model: missing " + first(missing) + ", unexpected "
                    + first(unexpected));
        }
        saved.forEach((k, p) -> {
            NDArray value = values.get(k);
            if (!value.getShape().equals(p.getArray().getShape())) {
                throw new PeftException("saved tensor " + k + " has shape " + value.getShape() + ", the model's is "
                        + p.getArray().getShape());
            }
            ParameterValues.assign(p, value);
        });
    }

    private static String first(Set<String> names) {
        return names.isEmpty() ? "none" : names.stream().limit(5).toList() + (names.size() > 5 ? " and " + (names.size() - 5) + " more" : "");
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
