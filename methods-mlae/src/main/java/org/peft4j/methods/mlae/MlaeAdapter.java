package org.peft4j.methods.mlae;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import org.peft4j.api.MaskStrategy;
import org.peft4j.api.analysis.RankOneComponents;
import org.peft4j.api.analysis.RankOneFactors;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.site.SiteWeights;
import org.peft4j.api.site.Slices;

/**
 * MLAE on a Linear site (or one output slice of it): E rank-1 experts {@code b_i a_i^T}, each with its own
 * coefficient lambda_i and a mask m_i read from its mask group in the {@link MaskStrategy} (its own group by
 * default, as the authors' code draws one dropout mask per wrapped linear; or its block's):
 *
 * <pre>{@code y = W0 x + b0 + ((x A^T) * (m * lambda)) B}</pre>
 *
 * with A {@code [E, in]} (row i = a_i, Kaiming-uniform as the authors' code or Gaussian as the paper), B
 * {@code [E, out]} (row i = b_i, zero, so training starts at the frozen model) and lambda {@code [E]}
 * (initialised to {@code lambda-init}; absent when not adaptive, i.e. fixed at 1). There is no alpha/r
 * scaling. All experts are computed in one batched product; the mask multiplies an {@code [..., E]} tensor,
 * so a dropped expert (m_i = 0) adds nothing and its a_i, b_i and lambda_i get exactly zero gradient.
 *
 * <p>Training uses the strategy's training mask for this block, evaluation its inference mask. Merge folds
 * {@code sum_i m_i lambda_i b_i a_i^T} (inference mask) into the weight rows of the slice.
 */
public final class MlaeAdapter extends AdapterBlock implements RankOneComponents {

    /** Parameter names, as they appear in checkpoint keys {@code <site>.<adapter>.<name>}. */
    public static final String A = "mlae_A";
    public static final String B = "mlae_B";
    public static final String LAMBDA = "mlae_lambda";

    private final Parameter a;
    private final Parameter b;
    private final Parameter lambda;
    private final OutputSlice slice;
    private final int group;
    private final MaskStrategy masks;
    private final float inputDropout;

    /**
     * @param in input features of the site
     * @param rows output rows this adapter writes: the slice's size, or the site's outputs
     * @param slice the output slice, or null for all outputs
     * @param group the mask group whose mask applies (an index of {@code masks})
     */
    public MlaeAdapter(String name, int in, int rows, OutputSlice slice, int group, MaskStrategy masks,
            MlaeSettings settings) {
        super(name);
        if (slice != null && slice.size() != rows) {
            throw new IllegalArgumentException("adapter " + name + ": slice " + slice + " has " + slice.size()
                    + " rows, not " + rows);
        }
        this.slice = slice;
        this.group = group;
        this.masks = masks;
        this.inputDropout = (float) settings.inputDropout();
        int experts = masks.experts();
        Initializer init = settings.init().initializer(settings.rank());
        a = param(A, new Shape(experts, in), init);
        b = param(B, new Shape(experts, rows), Initializers.zeros());
        lambda = settings.adaptive()
                ? param(LAMBDA, new Shape(experts), Initializers.constant((float) settings.lambdaInit()))
                : null;
    }

    public Parameter a() {
        return a;
    }

    public Parameter b() {
        return b;
    }

    /** The coefficients, or null when they are fixed at 1. */
    public Parameter lambda() {
        return lambda;
    }

    /** The mask group this adapter reads. */
    public int group() {
        return group;
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray x = inputDropout > 0 && training
                ? Dropout.dropout(input, inputDropout, true).singletonOrThrow()
                : input;
        float[] mask = training ? masks.trainingMask(group) : masks.inferenceMask(group);
        NDArray h = Ops.linear(x, value(store, a, x, training)); // [..., E]: every expert at once
        NDArray lam = lambda == null ? null : value(store, lambda, x, training);
        NDArray coefficients;
        if (allOnes(mask)) {
            coefficients = lam;
        } else {
            NDArray m = onDeviceOf(x, x.getManager(), mask); // created from x: lives in the step's scope
            coefficients = lam == null ? m : m.mul(lam);
        }
        if (coefficients != null) {
            h = h.mul(coefficients);
        }
        NDArray delta = h.matMul(value(store, b, x, training)); // [..., rows]
        return output.add(delta); // output: the slice's features where the adapter has one
    }

    @Override
    public OutputSlice slice() {
        return slice;
    }

    @Override
    public boolean foldable() {
        return true;
    }

    @Override
    public SiteWeights fold(SiteWeights frozen) {
        NDArray av = a.getArray();
        NDArray c = onDeviceOf(av, av.getManager(), masks.inferenceMask(group));
        if (lambda != null) {
            c = c.mul(lambda.getArray());
        }
        // Delta W = B^T diag(c) A: [rows, E] x [E, in]
        NDArray delta = b.getArray().transpose().matMul(av.mul(c.reshape(c.getShape().get(0), 1)));
        return new SiteWeights(Slices.addToRows(frozen.weight(), slice, delta), frozen.bias());
    }

    /** Component i = b_i a_i^T with coefficient m_i lambda_i (inference mask), 0 for experts never used. */
    @Override
    public RankOneFactors rankOneFactors() {
        float[] c = masks.inferenceMask(group).clone();
        if (lambda != null) {
            float[] lam = lambda.getArray().toFloatArray();
            for (int i = 0; i < c.length; i++) {
                c[i] *= lam[i];
            }
        }
        return RankOneFactors.of(a.getArray(), b.getArray(), false, c);
    }

    private static boolean allOnes(float[] mask) {
        for (float m : mask) {
            if (m != 1f) {
                return false;
            }
        }
        return true;
    }

    private static NDArray onDeviceOf(NDArray like, NDManager manager, float[] values) {
        // a constant: a plain cast to the activations' type (fp16 under half precision) is safe
        return manager.create(values).toType(like.getDataType(), false).toDevice(like.getDevice(), false);
    }
}
