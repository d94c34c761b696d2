package org.peft4j.methods.baselines.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import org.peft4j.api.analysis.RankOneComponents;
import org.peft4j.api.analysis.RankOneFactors;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.SiteWeights;

/**
 * LoRA on a CONV site: a low-rank update of the flattened kernel, {@code dW = scale * reshape(B A)} with A {@code
 * [r, (in/groups) k k]} and B {@code [out, r]} (zero), so {@code y += conv(dropout(x), dW)} with the site's stride,
 * padding and groups, and the merge adds {@code dW} to the weight.
 *
 * <p>For an ungrouped conv this is HF peft's Conv2d LoRA exactly (its {@code lora_A} conv has the kernel's shape
 * with r outputs, its {@code lora_B} is a 1x1 conv: together {@code B A} over the flattened kernel). For a grouped
 * or depthwise conv HF peft makes both factors grouped, which needs a rank that is a multiple of the groups (of the
 * channels, for a depthwise conv), so it is not low-rank there; peft4j keeps one factorisation across the output
 * channels: the depthwise kernels of a ConvNeXt block move together in an r-dimensional subspace of {@code R^(k k)}.
 */
public final class LoraConvAdapter extends AdapterBlock implements RankOneComponents {

    private final Parameter a;
    private final Parameter b;
    private final ConvSite.Geometry geometry;
    private final float scale;
    private final float dropout;

    public LoraConvAdapter(String name, ConvSite.Geometry geometry, LoraSettings settings) {
        super(name);
        this.geometry = geometry;
        this.scale = settings.scale();
        this.dropout = (float) settings.dropout();
        int r = settings.rank();
        Shape w = geometry.weightShape();
        a = param("lora_A", new Shape(r, w.size() / w.get(0)), settings.init().initializer(r));
        b = param("lora_B", new Shape(geometry.out(), r), Initializers.zeros());
    }

    public Parameter a() {
        return a;
    }

    public Parameter b() {
        return b;
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray x = dropout > 0 ? Dropout.dropout(input, dropout, training).singletonOrThrow() : input;
        NDArray bv = value(store, b, x, training);
        // copy B into the batch's manager first, so that dW and what follows live in the step's scope
        NDArray delta = Ops.scale(Ops.expandLike(bv, x, bv.getShape()).matMul(value(store, a, x, training)), scale);
        return output.add(geometry.convolve(x, delta.reshape(geometry.weightShape()), null));
    }

    @Override
    public boolean foldable() {
        return true;
    }

    @Override
    public SiteWeights fold(SiteWeights frozen) {
        NDArray delta = b.getArray().matMul(a.getArray()).mul(scale).reshape(frozen.weight().getShape());
        return new SiteWeights(frozen.weight().add(delta), frozen.bias());
    }

    @Override
    public RankOneFactors rankOneFactors() {
        float[] coefficients = new float[Math.toIntExact(a.getShape().get(0))];
        Arrays.fill(coefficients, scale);
        return RankOneFactors.of(a.getArray(), b.getArray(), true, coefficients);
    }
}
