package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterBlock;

/**
 * MoSA's adapter on one site: a bottleneck {@code s * up(dropout(act(down(LN?(h)))))} added to the site's output,
 * whose down and up projections may each be split into N sparse experts ({@link Split}). A training pass uses the
 * selected down and up experts; evaluation (and {@link #inferenceForm()}) uses the merged adapter, so merged and
 * unmerged evaluation agree and the merged adapter costs what one dense adapter costs.
 *
 * <p>Parameters: {@code norm_weight}, {@code norm_bias} (the adapter's own LayerNorm, shared), then {@code
 * down_weight}, {@code down_bias}, {@code up_weight}, {@code up_bias}, each either one tensor or one per expert
 * ({@code up_weight_0 .. up_weight_<N-1>}).
 */
public final class MosaAdapter extends AdapterBlock implements MixtureAdapter {

    /**
     * The adapter's shape and behaviour.
     *
     * @param features width of the tensor it reads and adds to
     * @param bottleneck hidden width r
     * @param reads what it reads of the site
     * @param layerNorm whether it has a LayerNorm of its own on what it reads
     * @param normEps eps of that LayerNorm
     * @param scale multiplies the output
     * @param dropout inverted dropout on the hidden activations while training
     */
    public record Structure(int features, int bottleneck, Bottleneck.Reads reads, boolean layerNorm, float normEps, Bottleneck.Act act,
            float scale, float dropout) {}

    /**
     * How the projections are held by experts.
     *
     * @param experts N (1 = a dense adapter)
     * @param split which projections are split
     * @param splitBiases whether a split projection's bias is split too (else one dense copy per expert)
     */
    public record Layout(int experts, Split split, boolean splitBiases) {}

    private final Structure structure;
    private final Merge merge;
    private final Parameter normWeight;
    private final Parameter normBias;
    private final ExpertSide down;
    private final ExpertSide up;
    private final List<ExpertTensor> tensors = new ArrayList<>();

    /** @param random draws the split masks (the run seed's stream, consumed in site order) */
    public MosaAdapter(String name, Structure structure, Layout layout, Merge merge, Random random) {
        super(name);
        this.structure = structure;
        this.merge = merge;
        int d = structure.features();
        int r = structure.bottleneck();
        normWeight = structure.layerNorm() ? param("norm_weight", new Shape(d), Initializers.ones()) : null;
        normBias = structure.layerNorm() ? param("norm_bias", new Shape(d), Initializers.zeros()) : null;
        // down: Kaiming-uniform (a = sqrt 5), up: zero, biases zero (the code's init for every style)
        down = side("down", layout, layout.split().down(), random,
                new ExpertTensor.Spec("down_weight", new Shape(r, d), Initializers.kaimingUniformSqrt5(), false, false),
                new ExpertTensor.Spec("down_bias", new Shape(r), Initializers.zeros(), true, true));
        up = side("up", layout, layout.split().up(), random,
                new ExpertTensor.Spec("up_weight", new Shape(d, r), Initializers.zeros(), true, false),
                new ExpertTensor.Spec("up_bias", new Shape(d), Initializers.zeros(), true, true));
    }

    private ExpertSide side(String side, Layout layout, boolean mixed, Random random, ExpertTensor.Spec... specs) {
        List<ExpertTensor> made = new ArrayList<>();
        for (ExpertTensor.Spec spec : specs) {
            made.add(ExpertTensor.of(spec, mixed ? layout.experts() : 1, layout.splitBiases(), random, this::param));
        }
        tensors.addAll(made);
        return new ExpertSide(name(), side, made);
    }

    public Structure structure() {
        return structure;
    }

    @Override
    public List<ExpertSide> sides() {
        return List.of(down, up);
    }

    @Override
    public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
        super.initialize(manager, dataType, inputShapes);
        tensors.forEach(t -> t.initialize(manager));
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray h = structure.reads().of(input, output);
        Function<Parameter, NDArray> value = p -> value(store, p, h, training);
        NDArray[] w = training
                ? new NDArray[] {down.training(0, value), down.training(1, value), up.training(0, value), up.training(1, value)}
                : merged(value, h.getManager());
        Bottleneck.Norm norm = structure.layerNorm()
                ? new Bottleneck.Norm(value.apply(normWeight), value.apply(normBias), structure.normEps())
                : null;
        return output.add(apply(structure, h, norm, w, training));
    }

    /** The bottleneck of {@code structure} on {@code h} with down weight, down bias, up weight, up bias {@code w}. */
    static NDArray apply(Structure structure, NDArray h, Bottleneck.Norm norm, NDArray[] w, boolean training) {
        return Bottleneck.apply(h, norm, w[0], w[1], structure.act(), structure.dropout(), w[2], w[3], structure.scale(),
                training);
    }

    /** down weight, down bias, up weight, up bias of the merged adapter. */
    private NDArray[] merged(Function<Parameter, NDArray> value, NDManager where) {
        NDArray[] w = new NDArray[4];
        for (int i = 0; i < 4; i++) {
            w[i] = tensors.get(i).merged(value, merge, where);
        }
        return w;
    }

    /** The merged adapter: one dense bottleneck with this adapter's structure, holding copies of the merged tensors. */
    @Override
    public Adapter inferenceForm() {
        NDManager home = parameterManager();
        List<NDArray> borrowed = new ArrayList<>();
        getParameters().values().forEach(p -> borrowed.add(p.getArray()));
        try (NDManager scope = home.newSubManager()) {
            scope.tempAttachAll(borrowed.toArray(new NDArray[0]));
            NDArray[] w = merged(Parameter::getArray, scope);
            NDArray[] own = new NDArray[6];
            own[0] = structure.layerNorm() ? normWeight.getArray().duplicate() : null;
            own[1] = structure.layerNorm() ? normBias.getArray().duplicate() : null;
            for (int i = 0; i < 4; i++) {
                own[i + 2] = w[i].duplicate();
            }
            for (NDArray a : own) {
                if (a != null) {
                    a.attach(home);
                }
            }
            return new MergedBottleneck(name(), structure, own, home);
        }
    }
}
