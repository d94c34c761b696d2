package org.peft4j.methods.baselines.common;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.Locale;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.AdapterBlock;

/**
 * A bottleneck MLP added to a site's output: {@code out' = out + scale * up(dropout(act(down(LN?(h)))))}, with
 * {@code h} the site's output (serial: Houlsby / Pfeiffer adapters), its input (parallel: AdaptFormer) or their sum
 * (on a residual site: the stream after the residual add, MoSA's Houlsby). {@code down} is {@code [bottleneck,
 * features]} plus bias, {@code up} is {@code [features, bottleneck]} plus bias (PyTorch layout). The optional
 * LayerNorm is a trainable one of its own (weight 1, bias 0, eps as configured: 1e-5 in AdaptFormer's code, 1e-6 in
 * MoSA's).
 *
 * <p>With {@link Init#ZERO} the up projection and both biases start at zero, so the adapter adds an exact
 * zero and the model starts as the frozen one. It never folds into the site: the non-linearity makes that
 * impossible, so it stays at inference (the {@link org.peft4j.api.site.Adapter} defaults).
 *
 * <p>Parameters: {@code norm_weight}, {@code norm_bias} (only with the LayerNorm), {@code down_weight},
 * {@code down_bias}, {@code up_weight}, {@code up_bias}.
 */
public final class BottleneckAdapter extends AdapterBlock {

    /** Initialisation of the two projections; biases always start at zero. */
    public enum Init {
        /**
         * down: Kaiming-uniform (a = sqrt 5, PyTorch's {@code nn.Linear} default); up: zero. AdaptFormer's
         * "lora" init: the adapter adds exactly zero at step 0.
         */
        ZERO,
        /** Both Xavier-uniform, as NOAH's adapter ({@code AdapterSuper.init_weights}); the output moves at once. */
        XAVIER,
        /** Both N(0, 0.01^2), Houlsby et al.'s near-identity init (not truncated at 2 sigma). */
        NORMAL;

        /** Parses a config value ({@code zero}, {@code xavier}, {@code normal}). */
        public static Init of(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    /**
     * The adapter's shape and behaviour.
     *
     * @param features width of the site's tensor (last dimension)
     * @param bottleneck hidden width
     * @param reads what the bottleneck reads
     * @param activation the non-linearity
     * @param init initialisation of the projections
     * @param scale multiplies the adapter's output
     * @param dropout inverted dropout on the hidden activations during training (0 = none)
     * @param layerNorm whether a trainable LayerNorm comes before {@code down}
     * @param layerNormEps that LayerNorm's eps
     */
    public record Spec(int features, int bottleneck, Bottleneck.Reads reads, Bottleneck.Act activation, Init init, float scale,
            float dropout, boolean layerNorm, float layerNormEps) {

        public Spec {
            if (features <= 0 || bottleneck <= 0) {
                throw new IllegalArgumentException(
                        "bottleneck adapter needs positive sizes, got " + features + " -> " + bottleneck);
            }
            if (layerNorm && !(layerNormEps > 0)) {
                throw new IllegalArgumentException("the adapter's LayerNorm needs eps > 0, got " + layerNormEps);
            }
        }
    }

    private final Spec spec;
    private final Parameter normWeight;
    private final Parameter normBias;
    private final Parameter downWeight;
    private final Parameter downBias;
    private final Parameter upWeight;
    private final Parameter upBias;

    public BottleneckAdapter(String name, Spec spec) {
        super(name);
        this.spec = spec;
        int d = spec.features();
        int r = spec.bottleneck();
        if (spec.layerNorm()) {
            normWeight = param("norm_weight", new Shape(d), Initializers.ones());
            normBias = param("norm_bias", new Shape(d), Initializers.zeros());
        } else {
            normWeight = null;
            normBias = null;
        }
        downWeight = param("down_weight", new Shape(r, d), downInit(spec.init(), d, r));
        downBias = param("down_bias", new Shape(r), Initializers.zeros());
        upWeight = param("up_weight", new Shape(d, r), upInit(spec.init(), d, r));
        upBias = param("up_bias", new Shape(d), Initializers.zeros());
    }

    private static Initializer downInit(Init init, int d, int r) {
        return switch (init) {
            case ZERO -> Initializers.kaimingUniformSqrt5();
            case XAVIER -> Initializers.xavierUniform(d, r);
            case NORMAL -> Initializers.normal(0.01);
        };
    }

    private static Initializer upInit(Init init, int d, int r) {
        return switch (init) {
            case ZERO -> Initializers.zeros();
            case XAVIER -> Initializers.xavierUniform(r, d);
            case NORMAL -> Initializers.normal(0.01);
        };
    }

    public Spec spec() {
        return spec;
    }

    public Parameter downWeight() {
        return downWeight;
    }

    public Parameter downBias() {
        return downBias;
    }

    public Parameter upWeight() {
        return upWeight;
    }

    public Parameter upBias() {
        return upBias;
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray h = spec.reads().of(input, output);
        Bottleneck.Norm norm = spec.layerNorm()
                ? new Bottleneck.Norm(value(store, normWeight, h, training), value(store, normBias, h, training),
                        spec.layerNormEps())
                : null;
        return output.add(Bottleneck.apply(h, norm, value(store, downWeight, h, training), value(store, downBias, h, training),
                spec.activation(), spec.dropout(), value(store, upWeight, h, training), value(store, upBias, h, training),
                spec.scale(), training));
    }
}
