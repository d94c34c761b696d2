package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.NormSite;

/**
 * timm's {@code LayerNorm2d}: a LayerNorm over the channels of an NCHW tensor. The norm itself is a {@link
 * NormSite} applied channels-last ({@code [B, H, W, C]}), so adapters attached to it see features in the last
 * dimension like at every other NORM site; this block only permutes around it.
 */
public final class LayerNorm2d extends ModuleBlock {

    private final NormSite norm;

    public LayerNorm2d(NormSite norm) {
        this.norm = child("norm", norm);
    }

    /** The channels-last norm, an adapter site. */
    public NormSite site() {
        return norm;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray channelsLast = inputs.singletonOrThrow().transpose(0, 2, 3, 1);
        NDArray y = norm.forward(store, new NDList(channelsLast), training).singletonOrThrow();
        return new NDList(y.transpose(0, 3, 1, 2));
    }
}
