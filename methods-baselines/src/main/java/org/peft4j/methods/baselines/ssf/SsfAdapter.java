package org.peft4j.methods.baselines.ssf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteWeights;

/**
 * SSF's scale and shift after a LINEAR or NORM site: {@code y' = gamma * y + beta} per output feature, with
 * {@code gamma ~ N(1, 0.02^2)} and {@code beta ~ N(0, 0.02^2)} as SSF's {@code init_ssf_scale_shift}.
 *
 * <p>Merge (zero inference cost, SSF's re-parameterisation): a LINEAR site {@code y = W x + b} becomes
 * {@code W' = diag(gamma) W}, {@code b' = gamma * b + beta}; a NORM site's affine {@code w, b} becomes
 * {@code w' = gamma * w}, {@code b' = gamma * b + beta}. A LINEAR site without bias cannot absorb the shift:
 * there the adapter is not {@link #foldable()} and keeps running at inference (one multiply-add per feature).
 *
 * <p>Parameters: {@code scale} and {@code shift}, both {@code [features]}.
 */
public final class SsfAdapter extends AdapterBlock {

    private final Parameter scale;
    private final Parameter shift;
    private final boolean foldable;

    /**
     * @param features output width of the site
     * @param kind LINEAR or NORM
     * @param siteHasBias whether the site's frozen op has a bias to absorb the shift
     */
    public SsfAdapter(int features, SiteKind kind, boolean siteHasBias) {
        super("ssf");
        if (kind != SiteKind.LINEAR && kind != SiteKind.NORM) {
            throw new IllegalArgumentException("SSF follows LINEAR or NORM sites, not " + kind);
        }
        this.scale = param("scale", new Shape(features), normal(1f, 0.02f));
        this.shift = param("shift", new Shape(features), normal(0f, 0.02f));
        this.foldable = siteHasBias;
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
        return output.mul(value(store, scale, output, training)).add(value(store, shift, output, training));
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
        // LINEAR [out, in]: scale the rows; NORM [features]: scale elementwise
        NDArray weight = w.getShape().dimension() == 2 ? w.mul(gamma.reshape(w.getShape().get(0), 1)) : w.mul(gamma);
        NDArray bias = frozen.bias().mul(gamma).add(shift.getArray());
        return new SiteWeights(weight, bias);
    }
}
