package org.peft4j.api;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Map;
import java.util.Set;

/**
 * A vision backbone with its classifier: {@link #block()} maps {@code [B, C, H, W]} float32 images to
 * {@code [B, numClasses]} logits. All families answer the same questions: features, head, parameters by
 * checkpoint key, and how to convert a checkpoint into their own key space.
 */
public interface Backbone extends AdaptableModel {

    /** The DJL block: NDList(images) to NDList(logits). */
    Block block();

    /** Pooled pre-logit features {@code [B, D]}. */
    NDArray features(ParameterStore store, NDArray images, boolean training);

    /**
     * One forward pass returning the logits and the outputs of the blocks at {@code depths} (site depths, 0 ..
     * {@code depth() - 1}) from that same pass, e.g. for a feature-alignment loss between two passes.
     */
    Intermediates forwardIntermediates(ParameterStore store, NDArray images, boolean training, Set<Integer> depths);

    /** Width of the pooled features. */
    int numFeatures();

    int numClasses();

    DataConfig dataConfig();

    /** Every parameter by checkpoint key, head included. */
    Map<String, Parameter> parameters();

    /**
     * Converts a checkpoint's tensors into this model's key space: unwraps, renames legacy or foreign
     * names (official Swin/ConvNeXt, Google .npz), resamples position embeddings, drops buffers. A pure
     * function of the tensors and the model; new arrays are created in {@code manager}.
     */
    Map<String, NDArray> convertCheckpoint(Map<String, NDArray> tensors, NDManager manager);
}
