package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.LinearSite;

/** timm's Mlp: fc1 -> GELU (exact erf) -> fc2, both adapter sites ({@code <prefix>.fc1}, {@code <prefix>.fc2}). */
public final class Mlp extends ModuleBlock {

    private final LinearSite fc1;
    private final LinearSite fc2;

    public Mlp(String prefix, int depth, int dim, int hidden) {
        fc1 = child("fc1", LinearSite.builder().setId(prefix + ".fc1").setFeatures(dim, hidden).optDepth(depth).build());
        fc2 = child("fc2", LinearSite.builder().setId(prefix + ".fc2").setFeatures(hidden, dim).optDepth(depth).build());
    }

    public LinearSite fc1() {
        return fc1;
    }

    public LinearSite fc2() {
        return fc2;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray h = fc1.forward(store, inputs, training).singletonOrThrow();
        return fc2.forward(store, new NDList(Activation.gelu(h)), training);
    }
}
