package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.LowRankInit;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.site.SiteWeights;
import org.peft4j.api.site.Slices;

/**
 * MoSL, MoSA on LoRA, on a Linear site (or one output slice): {@code y += s * dropout(x) A_i^T B_j^T} with A {@code
 * [r, in]} (LoRA's init) and B {@code [out, r]} (zero), each possibly split into N sparse experts and drawn
 * independently per pass (the code draws per projection). No alpha/r: {@code s} is the scale (1 in the code).
 * Evaluation uses {@code B̄ Ā} with the merged factors; {@link #fold} adds {@code s B̄ Ā} to the slice's weight rows
 * ({@link Merge#EXPECTATION}: {@code mean(B) mean(A)}, the expected update when A and B are drawn independently).
 *
 * <p>Parameters: {@code lora_A} / {@code lora_B}, or one per expert ({@code lora_A_0 ..}).
 */
public final class MoslAdapter extends AdapterBlock implements MixtureAdapter {

    /**
     * @param rank r
     * @param scale s
     * @param dropout dropout on the adapter's input while training
     */
    public record Structure(int in, int rows, OutputSlice slice, int rank, float scale, float dropout, LowRankInit init) {}

    private final Structure structure;
    private final Merge merge;
    private final ExpertSide a;
    private final ExpertSide b;

    public MoslAdapter(String name, Structure structure, MosaAdapter.Layout layout, Merge merge, Random random) {
        super(name);
        this.structure = structure;
        this.merge = merge;
        int r = structure.rank();
        a = side("A", layout.split().down() ? layout.experts() : 1, random, new ExpertTensor.Spec("lora_A",
                new Shape(r, structure.in()), structure.init().initializer(r), false, false));
        b = side("B", layout.split().up() ? layout.experts() : 1, random, new ExpertTensor.Spec("lora_B",
                new Shape(structure.rows(), r), Initializers.zeros(), true, false));
    }

    private ExpertSide side(String side, int experts, Random random, ExpertTensor.Spec spec) {
        return new ExpertSide(name(), side, List.of(ExpertTensor.of(spec, experts, true, random, this::param)));
    }

    public Structure structure() {
        return structure;
    }

    @Override
    public List<ExpertSide> sides() {
        return List.of(a, b);
    }

    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        super.initialize(manager, dataType, inputShapes);
        a.tensors().get(0).initialize(manager);
        b.tensors().get(0).initialize(manager);
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        Function<Parameter, NDArray> value = p -> value(store, p, input, training);
        NDArray x = structure.dropout() > 0 ? Dropout.dropout(input, structure.dropout(), training).singletonOrThrow() : input;
        NDArray wa = training ? a.training(0, value) : a.tensors().get(0).merged(value, merge, input.getManager());
        NDArray wb = training ? b.training(0, value) : b.tensors().get(0).merged(value, merge, input.getManager());
        // scale the rank-r intermediate, not the (much wider) output
        NDArray delta = Ops.linear(Ops.scale(Ops.linear(x, wa), structure.scale()), wb);
        return output.add(delta); // output: the slice's features where the adapter has one
    }

    @Override
    public OutputSlice slice() {
        return structure.slice();
    }

    @Override
    public boolean foldable() {
        return true;
    }

    /** {@code W[slice rows] += s B̄ Ā}; runs in the site's merge scope, which has borrowed this adapter's parameters. */
    @Override
    public SiteWeights fold(SiteWeights frozen) {
        NDManager where = frozen.weight().getManager();
        NDArray wa = a.tensors().get(0).merged(Parameter::getArray, merge, where);
        NDArray wb = b.tensors().get(0).merged(Parameter::getArray, merge, where);
        NDArray delta = Ops.scale(wb.matMul(wa), structure.scale());
        return new SiteWeights(Slices.addToRows(frozen.weight(), structure.slice(), delta), frozen.bias());
    }

    /** The merged factors {@code [Ā, B̄]} as copies (for tests and analysis). */
    List<NDArray> mergedFactors(NDManager where) {
        List<NDArray> out = new ArrayList<>();
        out.add(a.tensors().get(0).merged(Parameter::getArray, merge, where).duplicate());
        out.add(b.tensors().get(0).merged(Parameter::getArray, merge, where).duplicate());
        return out;
    }
}
