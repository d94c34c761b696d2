package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;

/** A 2-D convolution on NCHW with PyTorch's weight layout {@code [out, in/groups, kh, kw]}. */
public final class Conv2d extends ModuleBlock {

    private final Parameter weight;
    private final Parameter bias;
    private final Shape stride;
    private final Shape padding;
    private final int groups;

    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        this.weight = param("weight", new Shape(out, in / groups, kernel, kernel), Initializers.kaimingUniformSqrt5());
        this.bias = bias ? param("bias", new Shape(out), Initializers.zeros()) : null;
        this.stride = new Shape(stride, stride);
        this.padding = new Shape(padding, padding);
        this.groups = groups;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return ai.djl.nn.convolutional.Conv2d.conv2d(x, value(store, weight, x, training),
                bias == null ? null : value(store, bias, x, training), stride, padding, new Shape(1, 1), groups);
    }
}
