package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.Optional;
import org.peft4j.api.nn.Initializers;

/**
 * A LayerNorm over the last dimension with affine weight and bias. ViT, Swin and ConvNeXt use eps 1e-6
 * (DJL's default is 1e-5), so eps is always given explicitly.
 */
public final class NormSite extends SiteBlock {

    private final int features;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public NormSite(String id, int depth, int features, float eps) {
        super(id, SiteKind.NORM, depth);
        this.features = features;
        this.eps = eps;
        this.weight = param("weight", new Shape(features), Initializers.ones());
        this.bias = param("bias", new Shape(features), Initializers.zeros());
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray y =
                LayerNorm.layerNorm(
                                x,
                                new Shape(features),
                                value(store, weight, x, training),
                                value(store, bias, x, training),
                                eps)
                        .singletonOrThrow();
        return new NDList(runAdapters(store, x, y, training));
    }

    public float eps() {
        return eps;
    }

    @Override
    public int inFeatures() {
        return features;
    }

    @Override
    public int outFeatures() {
        return features;
    }

    @Override
    public Optional<Parameter> weight() {
        return Optional.of(weight);
    }

    @Override
    public Optional<Parameter> bias() {
        return Optional.of(bias);
    }
}
