package org.peft4j.api.analysis;

/**
 * An adapter whose weight update is a sum of rank-1 components, {@code Delta W = sum_i c_i b_i a_i^T}:
 * LoRA (component i = column i of B times row i of A, {@code c_i = alpha / r}), MLAE (expert i, {@code c_i =
 * lambda_i} times its inference mask), DMLoRA's branches. Implementing it lets the runner measure how
 * alike the components are ({@link RankOneSimilarity}) for any method.
 */
public interface RankOneComponents {

    /**
     * A copy of the components as they stand now, in the space of the site's output rows the adapter updates
     * (a slice's rows for a sliced target). A component with coefficient 0 is not used at inference.
     */
    RankOneFactors rankOneFactors();
}
