package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.ModuleBlock;

/**
 * What follows a residual branch before the add: optional layer scale, then drop path (timm's {@code ls1} /
 * {@code drop_path1}, ConvNeXt's {@code gamma} / {@code drop_path}). The post op of a {@link
 * org.peft4j.api.site.ResidualSite}; per channel over the last dimension.
 */
public final class BranchOutput extends ModuleBlock {

    private final LayerScale scale;
    private final double dropPath;
    private final StochasticDepth stochastic;

    /**
     * @param scale the layer scale, or null for none
     * @param dropPath the branch's drop-path rate
     * @param stochastic the backbone's drop-path switch
     */
    public BranchOutput(LayerScale scale, double dropPath, StochasticDepth stochastic) {
        this.scale = scale == null ? null : child("scale", scale);
        this.dropPath = dropPath;
        this.stochastic = stochastic;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList y = scale == null ? inputs : scale.forward(store, inputs, training);
        return new NDList(DropPath.apply(y.singletonOrThrow(), dropPath, stochastic.active(training)));
    }
}
