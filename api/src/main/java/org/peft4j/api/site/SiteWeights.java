package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;

/**
 * The weights of a site's frozen op as seen by a merge: a LINEAR site's {@code [out, in]} weight and
 * {@code [out]} bias (null when the layer has none); a CONV site's {@code [out, in/groups, k, k]} weight and
 * {@code [out]} bias; a NORM site's {@code [features]} weight and bias.
 */
public record SiteWeights(NDArray weight, NDArray bias) {}
