package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A point on the feature path with no frozen op ({@link SiteKind#IDENTITY}), features in the last dimension:
 * timm's {@code Identity} modules where SSF's code still scales and shifts (the {@code norm} of an
 * average-pooled ViT, ConvNeXt's {@code norm_pre} before pooling). With nothing attached it returns its input.
 */
public final class IdentitySite extends SiteBlock {

    private final int features;

    public IdentitySite(String id, int depth, int features) {
        super(id, SiteKind.IDENTITY, depth);
        this.features = features;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(runAdapters(store, x, x, training));
    }

    @Override
    public int inFeatures() {
        return features;
    }

    @Override
    public int outFeatures() {
        return features;
    }
}
