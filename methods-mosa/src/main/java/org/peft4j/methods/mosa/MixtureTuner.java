package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.Intermediates;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.Tuner;

/**
 * A MoSA or MoSL run: attaches the mixture adapters (through the method's {@link Placement}), then per step draws
 * every pass's experts before the forward passes, runs the two-pass consistency loss, masks the used experts'
 * gradients to their own entries and hands the unused experts to the optimiser as idle (no update at all). Reports
 * the merged adapter's size as the parameter count.
 */
public final class MixtureTuner implements Tuner {

    /** Where and how a method attaches its adapters. */
    @FunctionalInterface
    interface Placement {
        /** Selects, checks and attaches; returns the adapters in site order. */
        List<MixtureAdapter> attach(AdaptableModel model);
    }

    private final String id;
    private final MixtureSettings settings;
    private final Placement placement;
    private final Map<String, Object> adapterOptions;
    private final ConsistencyLoss loss;
    private final List<MixtureAdapter> adapters = new ArrayList<>();
    private ExpertRouter router;
    private int depth;

    /** @param adapterOptions the method's own options in force, reported with the shared ones */
    MixtureTuner(String id, MixtureSettings settings, Map<String, Object> adapterOptions, Placement placement) {
        this.id = id;
        this.settings = settings;
        this.placement = placement;
        this.adapterOptions = Map.copyOf(adapterOptions);
        this.loss = settings.loss();
    }

    public MixtureSettings settings() {
        return settings;
    }

    /** The attached adapters, in site order. */
    List<MixtureAdapter> adapters() {
        return List.copyOf(adapters);
    }

    /** The router, once attached. */
    ExpertRouter router() {
        if (router == null) {
            throw new IllegalStateException(id + " is not attached to a model yet");
        }
        return router;
    }

    @Override
    public void attach(AdaptableModel model) {
        if (router != null) {
            throw new IllegalStateException(id + " is already attached; create a new tuner per run");
        }
        List<MixtureAdapter> attached = placement.attach(model);
        List<ExpertSide> sides = new ArrayList<>();
        attached.forEach(a -> sides.addAll(a.sides()));
        adapters.addAll(attached);
        depth = model.depth();
        router = new ExpertRouter(sides, settings.choice());
    }

    @Override
    public TrainingHooks hooks() {
        return new TrainingHooks() {
            @Override
            public void beforeForward(StepContext step) {
                router().draw(step, loss.passes(depth));
            }

            @Override
            public StepLoss loss(StepContext step, Forward forward, NDArray images, NDArray labels, TaskLoss taskLoss) {
                return twoPassLoss(forward, images, labels, taskLoss);
            }

            @Override
            public void afterBackward(StepContext step) {
                router().maskGradients();
            }

            @Override
            public Set<Parameter> idleParameters(StepContext step) {
                return router().idle();
            }
        };
    }

    private TrainingHooks.StepLoss twoPassLoss(TrainingHooks.Forward forward, NDArray images, NDArray labels,
            TrainingHooks.TaskLoss taskLoss) {
        Set<Integer> aligned = loss.alignedBlocks(depth);
        try {
            router().select(0);
            Intermediates first = pass(forward, images, aligned);
            NDArray total = taskLoss.loss(first.logits(), labels);
            if (loss.passes(depth) == 2) {
                router().select(1);
                Intermediates second = pass(forward, images, aligned);
                if (settings.alpha() != 0) {
                    total = total.add(loss.symmetricKl(first.logits(), second.logits()));
                }
                if (!aligned.isEmpty()) {
                    total = total.add(loss.alignment(first, second, depth));
                }
            }
            return new TrainingHooks.StepLoss(total, first.logits());
        } finally {
            router().deselect();
        }
    }

    private static Intermediates pass(TrainingHooks.Forward forward, NDArray images, Set<Integer> aligned) {
        return aligned.isEmpty() ? new Intermediates(forward.logits(images), Map.of()) : forward.withBlocks(images, aligned);
    }

    /** The merged adapters' size: expert copies count once, as in the papers' tables. */
    @Override
    public long reportedParameterCount(long counted) {
        return counted - adapters.stream().mapToLong(MixtureAdapter::extraParameters).sum();
    }

    @Override
    public Map<String, Object> analysis(AdaptableModel model) {
        Map<String, Object> out = new LinkedHashMap<>(adapterOptions);
        out.putAll(settings.describe());
        out.put("adapters", adapters.size());
        out.put("aligned_blocks", List.copyOf(loss.alignedBlocks(depth)));
        return Map.of(id, out);
    }
}
