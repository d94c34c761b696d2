package org.peft4j.api;

import java.util.List;

/**
 * A backbone family, found by {@link java.util.ServiceLoader}. Names follow timm ({@code
 * vit_base_patch16_224}, {@code swin_tiny_patch4_window7_224}, {@code convnext_base}) plus micro sizes for
 * tests.
 */
public interface BackboneProvider {

    /** Family id, e.g. {@code vit}. */
    String family();

    /** Every variant name this provider builds. */
    List<String> variants();

    /** Builds an initialised (randomly, as timm initialises) backbone. */
    Backbone build(BackboneOptions options, ai.djl.ndarray.NDManager manager);

    default boolean supports(String name) {
        return variants().contains(name);
    }
}
