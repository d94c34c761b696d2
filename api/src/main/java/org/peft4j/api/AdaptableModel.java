package org.peft4j.api;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.peft4j.api.site.AdapterSite;

/**
 * What a method sees of a model: its adapter sites and its parameters by checkpoint key. Methods select
 * sites with patterns ({@link org.peft4j.api.site.SiteSelector}), never by walking a backbone's classes.
 *
 * <p>Before {@link Tuner#attach} runs, the runner freezes every backbone parameter and leaves the head
 * trainable; a method unfreezes what it trains ({@code Parameter.freeze(false)}).
 */
public interface AdaptableModel {

    /** The variant name, e.g. {@code vit_base_patch16_224}. */
    String name();

    /** Every site, in forward order. */
    List<AdapterSite> sites();

    /** Number of blocks; site depths run from 0 to {@code depth() - 1}. */
    int depth();

    /** Backbone parameters by checkpoint (timm) key, head excluded. */
    Map<String, Parameter> backboneParameters();

    /** The classifier's parameters by checkpoint key ({@code head.weight}, {@code head.bias}). */
    Map<String, Parameter> headParameters();

    /** Where adapters' parameters live (the model's device and lifetime): initialise adapters here. */
    NDManager manager();

    /**
     * Runs the backbone's own stochastic layers (drop path) as at evaluation while the model trains, as VPT's and
     * NOAH's code put the frozen encoder in eval mode; adapters, prompts and their dropout still see {@code
     * training = true}. A method calls it from {@link Tuner#attach}. Models without stochastic layers ignore it.
     */
    default void setFrozenBackboneEval(boolean eval) {}

    /** Whether the pooled features are a mean over tokens or positions rather than a cls token. */
    default boolean averagePooled() {
        return false;
    }

    /**
     * For average-pooled models: whether prompt tokens (inserted at TOKENS sites) join the mean, as VPT's code does
     * for MAE ViTs and Swin; otherwise they are dropped before pooling (the default). Models that pool a cls token
     * ignore it.
     */
    default void setPromptsPooled(boolean pooled) {}

    /** The site with this id, if any. */
    default Optional<AdapterSite> site(String id) {
        return sites().stream().filter(s -> s.id().equals(id)).findFirst();
    }
}
