package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;

/** Per-channel scale of a residual branch over the last dimension (timm {@code ls1.gamma}, ConvNeXt {@code gamma}). */
public final class LayerScale extends ModuleBlock {

    private final Parameter gamma;

    public LayerScale(int dim, float initValue) {
        gamma = param("gamma", new Shape(dim), Initializers.constant(initValue));
    }

    public Parameter gamma() {
        return gamma;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(x.mul(value(store, gamma, x, training)));
    }
}
