package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
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

    /** A convolution with PyTorch's default weight init (Kaiming uniform, a = sqrt 5) and a zero bias. */
    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias) {
        this(in, out, kernel, stride, padding, groups, bias, Initializers.kaimingUniformSqrt5());
    }

    /** A convolution whose weight starts from {@code weightInit} (timm's ConvNeXt uses trunc-normal 0.02). */
    public Conv2d(int in, int out, int kernel, int stride, int padding, int groups, boolean bias, Initializer weightInit) {
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException("conv channels " + in + " -> " + out + " are not divisible by " + groups + " groups");
        }
        this.weight = param("weight", new Shape(out, in / groups, kernel, kernel), weightInit);
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
