package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.NormSite;

/** {@code inner(norm(x))}: the body of a pre-norm residual branch, wrapped by a branch site. */
public final class NormThen extends ModuleBlock {

    private final NormSite norm;
    private final Block inner;

    public NormThen(NormSite norm, Block inner) {
        this.norm = child("norm", norm);
        this.inner = child("inner", inner);
    }

    public NormSite norm() {
        return norm;
    }

    public Block inner() {
        return inner;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        return inner.forward(store, norm.forward(store, inputs, training), training);
    }
}
