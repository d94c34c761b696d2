package org.peft4j.methods.baselines.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import java.util.Arrays;
import org.peft4j.api.analysis.RankOneComponents;
import org.peft4j.api.analysis.RankOneFactors;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.AdapterBlock;

/**
 * What LoRA's adapters share: A {@code [r, in]} (Kaiming-uniform or Gaussian), B {@code [out, r]} zero, so training
 * starts at the frozen model, the scale alpha / r, input dropout, and the merged update {@code scale * B A}. As
 * {@link RankOneComponents}, component i is column i of B times row i of A with coefficient {@code scale}.
 */
abstract class LowRankAdapter extends AdapterBlock implements RankOneComponents {

    protected final Parameter a;
    protected final Parameter b;
    protected final float scale;
    private final float dropout;

    /**
     * @param in the width A reads (a linear's inputs, a conv's flattened kernel)
     * @param out the rows B writes
     */
    LowRankAdapter(String name, long in, long out, LoraSettings settings) {
        super(name);
        this.scale = settings.scale();
        this.dropout = (float) settings.dropout();
        int r = settings.rank();
        a = param("lora_A", new Shape(r, in), settings.init().initializer(r));
        b = param("lora_B", new Shape(out, r), Initializers.zeros());
    }

    public Parameter a() {
        return a;
    }

    public Parameter b() {
        return b;
    }

    /** The input after LoRA's dropout (training only). */
    protected NDArray dropped(NDArray input, boolean training) {
        return dropout > 0 ? Dropout.dropout(input, dropout, training).singletonOrThrow() : input;
    }

    /** {@code scale * B A}, from the parameters' current values (for merging). */
    protected NDArray delta() {
        return b.getArray().matMul(a.getArray()).mul(scale);
    }

    @Override
    public boolean foldable() {
        return true;
    }

    @Override
    public RankOneFactors rankOneFactors() {
        float[] coefficients = new float[Math.toIntExact(a.getShape().get(0))];
        Arrays.fill(coefficients, scale);
        return RankOneFactors.of(a.getArray(), b.getArray(), true, coefficients);
    }
}
