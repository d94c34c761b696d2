package org.peft4j.methods.baselines.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.SiteWeights;

/**
 * LoRA on a CONV site: a low-rank update of the flattened kernel, {@code dW = scale * reshape(B A)} with A {@code
 * [r, (in/groups) k k]} and B {@code [out, r]} ({@link LowRankAdapter}), so {@code y += conv(dropout(x), dW)} with the
 * site's stride, padding and groups, and the merge adds {@code dW} to the weight.
 *
 * <p>For an ungrouped conv this is HF peft's Conv2d LoRA exactly (its {@code lora_A} conv has the kernel's shape
 * with r outputs, its {@code lora_B} is a 1x1 conv: together {@code B A} over the flattened kernel). For a grouped
 * or depthwise conv HF peft makes both factors grouped, which needs a rank that is a multiple of the groups (of the
 * channels, for a depthwise conv), so it is not low-rank there; peft4j keeps one factorisation across the output
 * channels: the depthwise kernels of a ConvNeXt block move together in an r-dimensional subspace of {@code R^(k k)}.
 */
public final class LoraConvAdapter extends LowRankAdapter {

    private final ConvSite.Geometry geometry;

    public LoraConvAdapter(String name, ConvSite.Geometry geometry, LoraSettings settings) {
        super(name, geometry.weightShape().size() / geometry.out(), geometry.out(), settings);
        this.geometry = geometry;
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray x = dropped(input, training);
        NDArray bv = value(store, b, x, training);
        // copy B into the batch's manager first, so that dW and what follows live in the step's scope
        NDArray delta = Ops.scale(Ops.expandLike(bv, x, bv.getShape()).matMul(value(store, a, x, training)), scale);
        return output.add(geometry.convolve(x, delta.reshape(geometry.weightShape()), null));
    }

    @Override
    public SiteWeights fold(SiteWeights frozen) {
        return new SiteWeights(frozen.weight().add(delta().reshape(frozen.weight().getShape())), frozen.bias());
    }
}
