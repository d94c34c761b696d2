package org.peft4j.methods.dmlora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.peft4j.api.analysis.RankOneComponents;
import org.peft4j.api.analysis.RankOneFactors;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.site.SiteWeights;
import org.peft4j.api.site.Slices;

/**
 * MixLoRA on a Linear site or one output slice of it (Eq. 2): down branches A_i {@code [r, in]}, up branches
 * B_j {@code [rows, r]}, and {@code f(x) = W x + s * B_j A_i x + b} with the branches (i, j) the tuner routed
 * this step; no alpha / r. Outside routed training (evaluation, or the scale stage with averaged branches) it
 * uses the mixture {@code mean(B_live) mean(A_live)} (Mixture Evaluation), which is also what merging folds
 * into W, so merged and unmerged evaluation agree.
 *
 * <p>The scale s is a constant during stage 1; {@link #learnScale} makes it a parameter (one per site, or one
 * per output row) and freezes every branch, for the 2-stage learning scalar.
 */
public final class MixLoraAdapter extends AdapterBlock implements RankOneComponents {

    /** The scale parameter's name (key {@code <site>.<adapter>.scale}). */
    public static final String SCALE = "scale";

    private final OutputSlice slice;
    private final int depth;
    private final int rows;
    private final float initialScale;
    private final BranchSet down;
    private final BranchSet up;
    private Parameter learnedScale;
    private boolean averaged;
    private int routeDown;
    private int routeUp;

    /**
     * @param downBranches initial number of A_i
     * @param upBranches initial number of B_j
     * @param identicalDown all A_i start equal to A_0 (else independent draws)
     */
    public MixLoraAdapter(String name, int in, int out, OutputSlice slice, int depth, int rank, int downBranches,
            int upBranches, Initializer downInit, boolean identicalDown, float scale) {
        super(name);
        this.slice = slice;
        this.depth = depth;
        this.rows = slice == null ? out : slice.size();
        this.initialScale = scale;
        BranchSet.Host host = new BranchSet.Host() {
            @Override
            public Parameter add(String parameter, Shape shape, Initializer initializer) {
                return addLateParameter(parameter, shape, initializer);
            }

            @Override
            public void remove(Parameter parameter) {
                removeParameter(parameter);
            }
        };
        Initializer sameAsFirst = (m, shape, type) -> firstDown().getArray().duplicate().stopGradient();
        this.down = new BranchSet("lora_A", new Shape(rank, in), downBranches, downInit,
                identicalDown ? sameAsFirst : downInit, host);
        this.up = new BranchSet("lora_B", new Shape(rows, rank), upBranches, Initializers.zeros(), Initializers.zeros(),
                host);
    }

    private Parameter firstDown() {
        return down.get(0);
    }

    public int depth() {
        return depth;
    }

    @Override
    public OutputSlice slice() {
        return slice;
    }

    public int rank() {
        return Math.toIntExact(down.get(0).getShape().get(0));
    }

    public int inFeatures() {
        return Math.toIntExact(down.get(0).getShape().get(1));
    }

    public int rows() {
        return rows;
    }

    public int liveDown() {
        return down.size();
    }

    public int liveUp() {
        return up.size();
    }

    /** The live down branches A_i in routing order. */
    public List<Parameter> downBranches() {
        return down.live();
    }

    /** The live up branches B_j in routing order. */
    public List<Parameter> upBranches() {
        return up.live();
    }

    /** Routes the next training forward pass through A_{down} and B_{up} (positions among the live ones). */
    public void route(int downIndex, int upIndex) {
        if (downIndex < 0 || downIndex >= down.size() || upIndex < 0 || upIndex >= up.size()) {
            throw new IllegalArgumentException("route (" + downIndex + ", " + upIndex + ") outside the " + down.size()
                    + " x " + up.size() + " live branches of " + name());
        }
        routeDown = downIndex;
        routeUp = upIndex;
    }

    public int routedDown() {
        return routeDown;
    }

    public int routedUp() {
        return routeUp;
    }

    /** Whether training forward passes use the averaged branches instead of the routed ones. */
    public void useAveragedBranches(boolean value) {
        averaged = value;
    }

    /** The live branches this step's routes leave out (they get no gradient and no optimiser update). */
    public Set<Parameter> idleBranches() {
        Set<Parameter> idle = new HashSet<>(down.live());
        idle.addAll(up.live());
        idle.remove(down.get(routeDown));
        idle.remove(up.get(routeUp));
        return idle;
    }

    /** Shrinks the down branches by a scheduler's plan ({@link org.peft4j.api.BranchScheduler#shrink}). */
    public void shrinkDown(List<int[]> groups, boolean resetSurvivors) {
        down.shrink(groups, resetSurvivors);
        routeDown = 0;
    }

    /** Shrinks the up branches by a scheduler's plan. */
    public void shrinkUp(List<int[]> groups, boolean resetSurvivors) {
        up.shrink(groups, resetSurvivors);
        routeUp = 0;
    }

    /**
     * Stage 2 of the learning scalar: freezes every branch and adds a trainable scale initialised at s, one
     * value for the site ({@code perRow} false) or one per output row.
     */
    public Parameter learnScale(boolean perRow) {
        if (learnedScale != null) {
            throw new IllegalStateException(name() + " already learns its scale");
        }
        down.live().forEach(p -> p.freeze(true));
        up.live().forEach(p -> p.freeze(true));
        learnedScale = addLateParameter(SCALE, new Shape(perRow ? rows : 1), Initializers.constant(initialScale));
        return learnedScale;
    }

    /** The learned scale parameter, or null during stage 1. */
    public Parameter learnedScale() {
        return learnedScale;
    }

    /** The scale: {@code [s]} during stage 1, the learned value(s) after. */
    public float[] scaleValues() {
        return learnedScale == null ? new float[] {initialScale} : learnedScale.getArray().toFloatArray();
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray a;
        NDArray b;
        if (training && !averaged) {
            a = value(store, down.get(routeDown), input, training);
            b = value(store, up.get(routeUp), input, training);
        } else {
            a = BranchSet.mean(values(store, down.live(), input, training));
            b = BranchSet.mean(values(store, up.live(), input, training));
        }
        NDArray low = Ops.linear(input, a);
        NDArray delta;
        if (learnedScale == null) {
            // scale the rank-r intermediate, not the (much wider) output
            delta = Ops.linear(Ops.scale(low, initialScale), b);
        } else if (learnedScale.getShape().get(0) == 1) {
            delta = Ops.linear(low.mul(value(store, learnedScale, input, training)), b);
        } else {
            delta = Ops.linear(low, b).mul(value(store, learnedScale, input, training));
        }
        return output.add(delta); // output: the slice's features where the adapter has one
    }

    private static List<NDArray> values(ParameterStore store, List<Parameter> parameters, NDArray like, boolean training) {
        List<NDArray> values = new ArrayList<>(parameters.size());
        for (Parameter p : parameters) {
            values.add(value(store, p, like, training));
        }
        return values;
    }

    @Override
    public boolean foldable() {
        return true;
    }

    /** {@code W + s * mean(B_live) mean(A_live)} on the rows of the slice (s per row with a per-row scale). */
    @Override
    public SiteWeights fold(SiteWeights frozen) {
        return new SiteWeights(Slices.addToRows(frozen.weight(), slice, delta()), frozen.bias());
    }

    /** The mixture's weight update {@code [rows, in]}, in the manager of the live branches (or the caller's scope). */
    private NDArray delta() {
        NDArray a = BranchSet.mean(arrays(down.live()));
        NDArray b = scaledUp(BranchSet.mean(arrays(up.live())));
        return b.matMul(a);
    }

    /** The up factor with the scale applied to its rows. */
    private NDArray scaledUp(NDArray b) {
        if (learnedScale == null) {
            return Ops.scale(b, initialScale);
        }
        NDArray s = learnedScale.getArray();
        return b.mul(s.getShape().get(0) == 1 ? s : s.reshape(rows, 1));
    }

    private static List<NDArray> arrays(List<Parameter> parameters) {
        return parameters.stream().map(Parameter::getArray).toList();
    }

    @Override
    public String toString() {
        return "MixLoraAdapter " + name() + " (" + down.size() + " down x " + up.size() + " up branches, rank " + rank()
                + (learnedScale == null ? ", s = " + initialScale : ", learned scale") + ")";
    }

    /** The mixture as r rank-1 components: column k of s * mean(B) times row k of mean(A), coefficient 1. */
    @Override
    public RankOneFactors rankOneFactors() {
        NDManager home = down.get(0).getArray().getManager();
        try (NDManager scope = home.newSubManager()) {
            List<NDArray> borrowed = new ArrayList<>(arrays(down.live()));
            borrowed.addAll(arrays(up.live()));
            scope.tempAttachAll(borrowed.toArray(new NDArray[0]));
            NDArray a = BranchSet.mean(arrays(down.live()));
            NDArray b = scaledUp(BranchSet.mean(arrays(up.live())));
            float[] ones = new float[rank()];
            Arrays.fill(ones, 1f);
            return RankOneFactors.of(a, b, true, ones);
        }
    }
}
