package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import java.util.Arrays;
import java.util.Locale;

/**
 * The bottleneck MLP every adapter of the field computes: {@code scale * up(dropout(act(down(LN?(h)))))}, with
 * {@code down} {@code [bottleneck, features]} and {@code up} {@code [features, bottleneck]} (PyTorch layout), both
 * with bias. AdaptFormer, the Houlsby / Pfeiffer adapters, MoSA's experts and its merged adapter all run this one
 * function on weights they own; where the result is added (parallel or serial) is the caller's business.
 */
public final class Bottleneck {

    private Bottleneck() {}

    /** What a bottleneck reads of its site's {@code (input, output)} pair. */
    public enum Reads {
        /** The site's output (serial adapter: Houlsby, Pfeiffer). */
        OUTPUT,
        /** The site's input (parallel adapter: AdaptFormer). */
        INPUT,
        /**
         * Input plus output: on a residual site, the stream after the residual add (MoSA's Houlsby). The block adds
         * the site's output to its shortcut afterwards, so the result equals MoSA's {@code h + f(h)} up to the
         * rounding of one addition.
         */
        STREAM;

        /** The tensor the bottleneck reads. */
        public NDArray of(NDArray input, NDArray output) {
            return switch (this) {
                case OUTPUT -> output;
                case INPUT -> input;
                case STREAM -> input.add(output);
            };
        }
    }

    /** The non-linearity between down and up. */
    public enum Act {
        /** Exact (erf) GELU: MoSA's AdaptFormer-style adapter, VPT's adapter. */
        GELU,
        /** ReLU: AdaptFormer's code, MoSA's Pfeiffer adapter. */
        RELU,
        /** {@code x * sigmoid(x)}: MoSA's Houlsby adapter. */
        SILU,
        /** {@code x * sigmoid(1.702 x)}: CLIP's and NOAH's adapters. */
        QUICK_GELU;

        /** Applies the non-linearity (safe under autograd). */
        public NDArray apply(NDArray x) {
            return switch (this) {
                case GELU -> Activation.gelu(x);
                case RELU -> Activation.relu(x);
                case SILU -> x.mul(Activation.sigmoid(x));
                case QUICK_GELU -> x.mul(Activation.sigmoid(Ops.scale(x, 1.702)));
            };
        }

        /** Parses a config value ({@code gelu}, {@code relu}, {@code silu}, {@code quick-gelu}). */
        public static Act of(String value) {
            return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
        }

        /** The config spelling, e.g. {@code quick-gelu}. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** Every config value, for {@link org.peft4j.api.MethodContext#oneOf}. */
        public static String[] names() {
            return Arrays.stream(values()).map(Act::configName).toArray(String[]::new);
        }
    }

    /** An input LayerNorm over the last dimension: affine weight and bias and its eps. */
    public record Norm(NDArray weight, NDArray bias, float eps) {}

    /**
     * The bottleneck's output for {@code h}.
     *
     * @param norm the input LayerNorm, or null for none
     * @param dropout inverted dropout on the hidden activations while training (0 = none)
     * @param scale multiplies the output (1 = none)
     */
    public static NDArray apply(NDArray h, Norm norm, NDArray downWeight, NDArray downBias, Act act, float dropout,
            NDArray upWeight, NDArray upBias, float scale, boolean training) {
        NDArray x = h;
        if (norm != null) {
            x = LayerNorm.layerNorm(x, new Shape(h.getShape().getLastDimension()), norm.weight(), norm.bias(), norm.eps())
                    .singletonOrThrow();
        }
        // every op chain starts from the activations, so results live in the caller's (step) scope
        NDArray z = act.apply(Linear.linear(x, downWeight, downBias).singletonOrThrow());
        if (dropout > 0) {
            z = Dropout.dropout(z, dropout, training).singletonOrThrow();
        }
        NDArray up = Linear.linear(z, upWeight, upBias).singletonOrThrow();
        return scale == 1f ? up : Ops.scale(up, scale);
    }
}
