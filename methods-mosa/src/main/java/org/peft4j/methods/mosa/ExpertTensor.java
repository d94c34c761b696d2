package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;

/**
 * One weight or bias tensor of a mixture adapter, held by its experts in one of three layouts:
 *
 * <ul>
 *   <li>{@link Layout#SHARED}: one dense parameter every expert uses (the dense down projection of the
 *       hierarchical strategy);
 *   <li>{@link Layout#COPIES}: one dense copy per expert (the authors' per-expert biases);
 *   <li>{@link Layout#SPLIT}: one parameter per expert, each owning a disjoint part of the entries ({@link
 *       SplitMasks}): the sparse experts.
 * </ul>
 *
 * All experts start from one initialisation (the code deep-copies expert 0). A split expert i is stored as {@code
 * P_i}, its own entries of that start and zero elsewhere, and trains as {@code W_i = P_i + F_i} with {@code F_i} the
 * frozen start outside its entries (absent for a zero start such as the up projection). That is the code's expert
 * (a full copy whose foreign entries never move), and it keeps foreign entries exactly as they are under AdamW: their
 * gradient is masked to zero, so moments stay zero, and weight decay of a zero is zero.
 */
final class ExpertTensor {

    /** How the experts hold the tensor. */
    enum Layout {
        SHARED,
        COPIES,
        SPLIT
    }

    /**
     * What a tensor is, before it is laid out: its name (the parameter name, with {@code _<expert>} appended per
     * expert), shape, the initialisation every expert starts from and whether it is a bias.
     */
    record Spec(String name, Shape shape, Initializer start, boolean zeroStart, boolean bias) {}

    /**
     * Lays a tensor out for a side: shared when the side is not mixed; otherwise split (weights, and biases when
     * {@code splitBiases}) with owners drawn from {@code random}, or one dense copy per expert (other biases).
     */
    static ExpertTensor of(Spec spec, int experts, boolean splitBiases, Random random, Declarer declarer) {
        if (experts == 1) {
            return shared(spec.name(), spec.shape(), spec.start(), spec.zeroStart(), declarer);
        }
        if (spec.bias() && !splitBiases) {
            return copies(spec.name(), spec.shape(), experts, spec.start(), spec.zeroStart(), declarer);
        }
        int[] owner = SplitMasks.owners(Math.toIntExact(spec.shape().size()), experts, random);
        return split(spec.name(), spec.shape(), experts, owner, spec.start(), spec.zeroStart(), declarer);
    }

    /** The owning block's parameter declaration ({@code ModuleBlock.param}). */
    @FunctionalInterface
    interface Declarer {
        Parameter declare(String name, Shape shape, Initializer initializer);
    }

    private final String name;
    private final Shape shape;
    private final Layout layout;
    private final Initializer start;
    private final boolean zeroStart;
    private final int[] owner;
    private final List<Parameter> parameters = new ArrayList<>();
    private NDArray[] masks;
    private NDArray[] frozen;

    private ExpertTensor(String name, Shape shape, Layout layout, int experts, Initializer start, boolean zeroStart,
            int[] owner, Declarer declarer) {
        this.name = name;
        this.shape = shape;
        this.layout = layout;
        this.start = start;
        this.zeroStart = zeroStart;
        this.owner = owner;
        if (layout == Layout.SHARED) {
            parameters.add(declarer.declare(name, shape, Initializers.zeros()));
        } else {
            for (int e = 0; e < experts; e++) {
                parameters.add(declarer.declare(name + "_" + e, shape, Initializers.zeros()));
            }
        }
    }

    /** One dense tensor for every expert. */
    static ExpertTensor shared(String name, Shape shape, Initializer start, boolean zeroStart, Declarer declarer) {
        return new ExpertTensor(name, shape, Layout.SHARED, 1, start, zeroStart, null, declarer);
    }

    /** A dense copy per expert. */
    static ExpertTensor copies(String name, Shape shape, int experts, Initializer start, boolean zeroStart,
            Declarer declarer) {
        return new ExpertTensor(name, shape, Layout.COPIES, experts, start, zeroStart, null, declarer);
    }

    /** A disjoint part per expert; {@code owner} gives each entry's expert (row-major). */
    static ExpertTensor split(String name, Shape shape, int experts, int[] owner, Initializer start, boolean zeroStart,
            Declarer declarer) {
        if (owner.length != shape.size()) {
            throw new IllegalArgumentException("owner map of " + name + " has " + owner.length + " entries, not " + shape.size());
        }
        return new ExpertTensor(name, shape, Layout.SPLIT, experts, start, zeroStart, owner.clone(), declarer);
    }

    String name() {
        return name;
    }

    Shape shape() {
        return shape;
    }

    Layout layout() {
        return layout;
    }

    /** Number of expert parameters (1 when shared). */
    int experts() {
        return parameters.size();
    }

    Parameter parameter(int expert) {
        return parameters.get(layout == Layout.SHARED ? 0 : expert);
    }

    List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /** The entries' owners (SPLIT only), row-major. */
    int[] owners() {
        if (owner == null) {
            throw new IllegalStateException(name + " is not split");
        }
        return owner.clone();
    }

    /** Parameters stored beyond one tensor's worth (the copies that merge into one). */
    long extraParameters() {
        return (parameters.size() - 1) * shape.size();
    }

    /**
     * Draws the one start every expert shares and writes each expert's part; the parameters were initialised to
     * zero by their block just before. Masks and frozen parts live in {@code manager} (the model's).
     */
    void initialize(NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray first = start.initialize(scope, shape, DataType.FLOAT32);
            if (layout == Layout.SPLIT) {
                masks = new NDArray[parameters.size()];
                frozen = zeroStart ? null : new NDArray[parameters.size()];
                for (int e = 0; e < parameters.size(); e++) {
                    masks[e] = manager.create(SplitMasks.mask(owner, e), shape);
                    parameters.get(e).getArray().addi(first.mul(masks[e]));
                    if (frozen != null) {
                        frozen[e] = first.sub(first.mul(masks[e]));
                        frozen[e].attach(manager);
                    }
                }
            } else {
                for (Parameter p : parameters) {
                    p.getArray().addi(first);
                }
            }
        }
    }

    /** The 0/1 mask of an expert's entries (SPLIT only). */
    NDArray mask(int expert) {
        return masks[expert];
    }

    /**
     * The weight expert {@code expert} trains with: {@code P_e (+ F_e)}. {@code value} reads a parameter (through the
     * parameter store while training).
     */
    NDArray expert(Function<Parameter, NDArray> value, int expert) {
        NDArray p = value.apply(parameter(expert));
        return frozen == null ? p : p.add(typed(frozen[expert], p));
    }

    /**
     * A constant (mask, frozen part; fp32) in the type of {@code like}, which is what a read returns under fp16;
     * a converted copy lives in {@code like}'s manager (the step's).
     */
    private static NDArray typed(NDArray constant, NDArray like) {
        if (constant.getDataType() == like.getDataType()) {
            return constant;
        }
        NDArray cast = constant.toType(like.getDataType(), true);
        cast.attach(like.getManager());
        return cast;
    }

    /**
     * The one tensor the experts merge into, created in {@code where}: SHARED as it is; COPIES as the mean of the
     * copies (each copy owns every entry, so the copy rule cannot pick one either); SPLIT as the mean of the experts'
     * weights ({@link Merge#EXPECTATION}) or the sum of each expert's own entries ({@link Merge#JIGSAW}).
     */
    NDArray merged(Function<Parameter, NDArray> value, Merge merge, NDManager where) {
        if (layout == Layout.SHARED) {
            return value.apply(parameters.get(0));
        }
        NDArray first = value.apply(parameters.get(0));
        NDArray sum = where.zeros(shape, first.getDataType(), first.getDevice());
        for (int e = 0; e < parameters.size(); e++) {
            if (layout == Layout.SPLIT && merge == Merge.JIGSAW) {
                NDArray own = value.apply(parameters.get(e));
                sum = sum.add(own.mul(typed(masks[e], own)));
            } else {
                sum = sum.add(expert(value, e));
            }
        }
        return layout == Layout.SPLIT && merge == Merge.JIGSAW ? sum : Ops.divide(sum, parameters.size());
    }

    /** Multiplies the gradient of an expert's parameter by its mask, in place (SPLIT only; others own every entry). */
    void maskGradient(int expert) {
        if (layout == Layout.SPLIT) {
            parameters.get(expert).getArray().getGradient().muli(masks[expert]);
        }
    }
}
