package org.peft4j.methods.baselines.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.site.SiteWeights;
import org.peft4j.api.site.Slices;

/**
 * LoRA on a Linear site (or one output slice of it): {@code y += scale * dropout(x) A^T B^T} with A {@code [r,
 * in]} and B {@code [out, r]} ({@link LowRankAdapter}). Merge folds {@code scale * B A} into the weight rows of the
 * slice.
 */
public final class LoraAdapter extends LowRankAdapter {

    private final OutputSlice slice;

    public LoraAdapter(String name, int in, int out, OutputSlice slice, LoraSettings settings) {
        super(name, in, slice == null ? out : slice.size(), settings);
        this.slice = slice;
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray x = dropped(input, training);
        // scale the rank-r intermediate, not the (much wider) output; alpha = r (the default) needs no op
        NDArray low = Ops.linear(x, value(store, a, x, training));
        if (scale != 1f) {
            low = Ops.scale(low, scale);
        }
        NDArray delta = Ops.linear(low, value(store, b, x, training));
        return output.add(delta); // output: the slice's features where the adapter has one
    }

    @Override
    public OutputSlice slice() {
        return slice;
    }

    @Override
    public SiteWeights fold(SiteWeights frozen) {
        return new SiteWeights(Slices.addToRows(frozen.weight(), slice, delta()), frozen.bias());
    }
}
