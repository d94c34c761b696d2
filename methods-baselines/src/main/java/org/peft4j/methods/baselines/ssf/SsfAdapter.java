package org.peft4j.methods.baselines.ssf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import java.util.Set;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteWeights;

/**
 * SSF's scale and shift after a site: {@code y' = gamma * y + beta} per output feature, with {@code gamma ~ N(1,
 * 0.02^2)} and {@code beta ~ N(0, 0.02^2)} as SSF's {@code init_ssf_scale_shift}. Features are the last dimension,
 * except on a CONV site, whose NCHW output is scaled per channel (dimension 1), as SSF's {@code ssf_ada}.
 *
 * <p>Merge (zero inference cost, SSF's re-parameterisation): a LINEAR or CONV site {@code y = W x + b} becomes
 * {@code W' = diag(gamma) W} (each output row or filter scaled), {@code b' = gamma * b + beta}; a NORM site's affine
 * {@code w, b} becomes {@code w' = gamma * w}, {@code b' = gamma * b + beta}. A site without bias cannot absorb the
 * shift, and an IDENTITY site has nothing to fold into: there the adapter is not {@link #foldable()} and keeps
 * running at inference (one multiply-add per feature).
 *
 * <p>Parameters: {@code scale} and {@code shift}, both {@code [features]}.
 */
public final class SsfAdapter extends AdapterBlock {

    /** The site kinds SSF can follow. */
    public static final Set<SiteKind> KINDS = Set.of(SiteKind.LINEAR, SiteKind.NORM, SiteKind.CONV, SiteKind.IDENTITY);

    private final Parameter scale;
    private final Parameter shift;
    private final SiteKind kind;
    private final boolean foldable;

    /**
     * @param features output width (channels) of the site
     * @param kind LINEAR, NORM, CONV or IDENTITY
     * @param siteHasBias whether the site's frozen op has a bias to absorb the shift
     */
    public SsfAdapter(int features, SiteKind kind, boolean siteHasBias) {
        super("ssf");
        if (!KINDS.contains(kind)) {
            throw new IllegalArgumentException("SSF follows LINEAR, NORM, CONV or IDENTITY sites, not " + kind);
        }
        this.kind = kind;
        this.scale = param("scale", new Shape(features), normal(1f, 0.02f));
        this.shift = param("shift", new Shape(features), normal(0f, 0.02f));
        this.foldable = siteHasBias && kind != SiteKind.IDENTITY;
    }

    private static Initializer normal(float mean, float std) {
        return (manager, shape, dataType) -> manager.randomNormal(mean, std, shape, dataType);
    }

    public Parameter scale() {
        return scale;
    }

    public Parameter shift() {
        return shift;
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray gamma = value(store, scale, output, training);
        NDArray beta = value(store, shift, output, training);
        if (kind == SiteKind.CONV) {
            long c = gamma.getShape().get(0);
            return output.mul(gamma.reshape(c, 1, 1)).add(beta.reshape(c, 1, 1));
        }
        return output.mul(gamma).add(beta);
    }

    @Override
    public boolean foldable() {
        return foldable;
    }

    @Override
    public SiteWeights fold(SiteWeights frozen) {
        if (!foldable || frozen.bias() == null) {
            throw new UnsupportedOperationException("ssf cannot fold its shift into a site without bias");
        }
        NDArray gamma = scale.getArray();
        NDArray w = frozen.weight();
        // LINEAR [out, in] / CONV [out, in/g, k, k]: scale each output's weights; NORM [features]: elementwise
        long[] perOutput = new long[w.getShape().dimension()];
        java.util.Arrays.fill(perOutput, 1);
        perOutput[0] = w.getShape().get(0);
        NDArray weight = w.mul(gamma.reshape(new Shape(perOutput)));
        NDArray bias = frozen.bias().mul(gamma).add(shift.getArray());
        return new SiteWeights(weight, bias);
    }
}
