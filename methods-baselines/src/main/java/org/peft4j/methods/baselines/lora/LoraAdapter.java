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
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.site.SiteWeights;
import org.peft4j.api.site.Slices;

/**
 * LoRA on a Linear site (or one output slice of it): {@code y += scale * dropout(x) A^T B^T} with A {@code [r,
 * in]} (Kaiming-uniform or Gaussian) and B {@code [out, r]} zero, so training starts at the frozen model.
 * Merge folds {@code scale * B A} into the weight rows of the slice. As {@link RankOneComponents}, component i
 * is column i of B times row i of A with coefficient {@code scale}.
 */
public final class LoraAdapter extends AdapterBlock implements RankOneComponents {

    private final Parameter a;
    private final Parameter b;
    private final OutputSlice slice;
    private final float scale;
    private final float dropout;

    public LoraAdapter(String name, int in, int out, OutputSlice slice, LoraSettings settings) {
        super(name);
        this.slice = slice;
        this.scale = settings.scale();
        this.dropout = (float) settings.dropout();
        int rows = slice == null ? out : slice.size();
        int r = settings.rank();
        a = param("lora_A", new Shape(r, in), settings.init().initializer(r));
        b = param("lora_B", new Shape(rows, r), Initializers.zeros());
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
        // scale the rank-r intermediate, not the (much wider) output
        NDArray low = Ops.scale(x.matMul(value(store, a, x, training).transpose()), scale);
        NDArray delta = low.matMul(value(store, b, x, training).transpose());
        return Slices.addToFeatures(output, slice, delta);
    }

    @Override
    public boolean foldable() {
        return true;
    }

    @Override
    public SiteWeights fold(SiteWeights frozen) {
        NDArray delta = b.getArray().matMul(a.getArray()).mul(scale);
        return new SiteWeights(Slices.addToRows(frozen.weight(), slice, delta), frozen.bias());
    }

    @Override
    public RankOneFactors rankOneFactors() {
        float[] coefficients = new float[Math.toIntExact(a.getShape().get(0))];
        Arrays.fill(coefficients, scale);
        return RankOneFactors.of(a.getArray(), b.getArray(), true, coefficients);
    }
}
