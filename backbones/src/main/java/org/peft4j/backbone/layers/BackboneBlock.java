package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.Intermediates;
import org.peft4j.api.nn.BlockOutputs;
import org.peft4j.api.Backbone;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.LinearSite;

/**
 * What every backbone family shares: the checkpoint-key index, the site list, the classifier and the
 * {@link Backbone} accessors. A family builds its layers, registers keys and sites, calls {@link
 * #addClassifier} last, and implements {@link #features}, data config and checkpoint conversion.
 */
public abstract class BackboneBlock extends ModuleBlock implements Backbone {

    /** Checkpoint key -> parameter, filled while the model is built. */
    protected final ParameterIndex keys = new ParameterIndex();
    /** Adapter sites in forward order. */
    protected final List<AdapterSite> sites = new ArrayList<>();
    /** Families call {@link BlockOutputs#record} after every block, by global depth. */
    protected final BlockOutputs blockOutputs = new BlockOutputs();

    private final String name;
    private final int numClasses;
    private final int numFeatures;
    private final int depth;
    private String classifierPrefix;
    private LinearSite classifier;

    protected BackboneBlock(String name, int numClasses, int numFeatures, int depth) {
        this.name = name;
        this.numClasses = numClasses;
        this.numFeatures = numFeatures;
        this.depth = depth;
    }

    /** Adds the linear classifier under checkpoint key {@code key} ({@code head}, {@code head.fc}); none if 0 classes. */
    protected final void addClassifier(String key) {
        classifierPrefix = key + ".";
        if (numClasses > 0) {
            classifier = child("classifier", LinearSite.builder().setId(key).setFeatures(numFeatures, numClasses).build());
            keys.putSite(classifier);
        }
    }

    /** Sets how every attention block of this model computes attention; weights and results stay the same. */
    public final void useAttention(AttentionKernel kernel) {
        useAttention(this, kernel);
    }

    private static void useAttention(Block block, AttentionKernel kernel) {
        if (block instanceof UsesAttentionKernel attention) {
            attention.useKernel(kernel);
        }
        block.getChildren().values().forEach(child -> useAttention(child, kernel));
    }

    @Override
    protected final NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray pooled = features(store, inputs.singletonOrThrow(), training);
        return classifier == null ? new NDList(pooled) : classifier.forward(store, new NDList(pooled), training);
    }

    @Override
    public final Intermediates forwardIntermediates(ParameterStore store, NDArray images, boolean training, Set<Integer> depths) {
        return blockOutputs.during(depths, depth, () -> forward(store, new NDList(images), training).singletonOrThrow());
    }

    @Override
    public final NDManager manager() {
        return parameterManager();
    }

    @Override
    public final Block block() {
        return this;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final int numFeatures() {
        return numFeatures;
    }

    @Override
    public final int numClasses() {
        return numClasses;
    }

    @Override
    public final int depth() {
        return depth;
    }

    @Override
    public final List<AdapterSite> sites() {
        return Collections.unmodifiableList(sites);
    }

    @Override
    public final Map<String, Parameter> parameters() {
        return keys.all();
    }

    @Override
    public final Map<String, Parameter> backboneParameters() {
        return keys.without(classifierPrefix);
    }

    @Override
    public final Map<String, Parameter> headParameters() {
        return keys.with(classifierPrefix);
    }
}
