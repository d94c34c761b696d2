package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.Optional;
import org.peft4j.api.nn.Initializers;

/**
 * A frozen 2-D convolution on NCHW tensors with PyTorch's weight layout {@code [out, in/groups, k, k]} and a bias
 * (ConvNeXt's stem, depthwise and downsample convs). Adapters get {@code (input, output)} in NCHW, channels in
 * dimension 1; merges see the 4-D weight. {@link #outFeatures()} is the output channels.
 */
public final class ConvSite extends SiteBlock {

    /**
     * The convolution's geometry.
     *
     * @param in input channels
     * @param out output channels
     * @param kernel square kernel size
     * @param stride stride (both axes)
     * @param padding zero padding (both axes)
     * @param groups channel groups ({@code in} for a depthwise conv)
     */
    public record Geometry(int in, int out, int kernel, int stride, int padding, int groups) {

        public Geometry {
            if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0 || groups <= 0
                    || in % groups != 0 || out % groups != 0) {
                throw new IllegalArgumentException("bad conv geometry " + in + " -> " + out + ", kernel " + kernel
                        + ", stride " + stride + ", padding " + padding + ", groups " + groups);
            }
        }

        /** The weight's shape {@code [out, in/groups, k, k]}. */
        public Shape weightShape() {
            return new Shape(out, in / groups, kernel, kernel);
        }

        /** {@code conv2d(x, w, b)} with this stride, padding and groups ({@code b} may be null). */
        public NDArray convolve(NDArray x, NDArray w, NDArray b) {
            return Conv2d.conv2d(x, w, b, new Shape(stride, stride), new Shape(padding, padding), new Shape(1, 1), groups)
                    .singletonOrThrow();
        }
    }

    private final Geometry geometry;
    private final Parameter weight;
    private final Parameter bias;

    /** A conv with a bias that starts at zero and a weight drawn by {@code weightInit}. */
    public ConvSite(String id, int depth, Geometry geometry, Initializer weightInit) {
        super(id, SiteKind.CONV, depth);
        this.geometry = geometry;
        this.weight = param("weight", geometry.weightShape(), weightInit);
        this.bias = param("bias", new Shape(geometry.out()), Initializers.zeros());
    }

    public Geometry geometry() {
        return geometry;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        NDArray y = geometry.convolve(x, value(store, weight, x, training), value(store, bias, x, training));
        return new NDList(runAdapters(store, x, y, training));
    }

    @Override
    public int inFeatures() {
        return geometry.in();
    }

    @Override
    public int outFeatures() {
        return geometry.out();
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
