package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.site.AdapterBlock;

/**
 * The inference form of a {@link MosaAdapter}: one dense bottleneck with the merged tensors, frozen. It owns its
 * arrays (the site clears it on unmerge); the experts it came from are untouched, so training resumes from them.
 */
final class MergedBottleneck extends AdapterBlock {

    private final MosaAdapter.Structure structure;
    private final Parameter normWeight;
    private final Parameter normBias;
    private final Parameter[] weights = new Parameter[4];

    /**
     * @param arrays norm weight, norm bias (null without a LayerNorm), down weight, down bias, up weight, up bias,
     *     all in {@code home}; this block takes them over
     */
    MergedBottleneck(String name, MosaAdapter.Structure structure, NDArray[] arrays, NDManager home) {
        super(name);
        this.structure = structure;
        normWeight = arrays[0] == null ? null : param("norm_weight", arrays[0].getShape(), (m, s, t) -> arrays[0]);
        normBias = arrays[1] == null ? null : param("norm_bias", arrays[1].getShape(), (m, s, t) -> arrays[1]);
        String[] names = {"down_weight", "down_bias", "up_weight", "up_bias"};
        for (int i = 0; i < 4; i++) {
            NDArray array = arrays[i + 2];
            weights[i] = param(names[i], array.getShape(), (m, s, t) -> array);
        }
        initialize(home, DataType.FLOAT32);
        freezeParameters(true);
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray h = structure.reads().of(input, output);
        Bottleneck.Norm norm = normWeight == null ? null
                : new Bottleneck.Norm(value(store, normWeight, h, training), value(store, normBias, h, training),
                        structure.normEps());
        NDArray[] w = new NDArray[4];
        for (int i = 0; i < 4; i++) {
            w[i] = value(store, weights[i], h, training);
        }
        return output.add(MosaAdapter.apply(structure, h, norm, w, training));
    }
}
