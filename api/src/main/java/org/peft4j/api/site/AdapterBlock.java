package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.ModuleBlock;

/**
 * Convenience base for adapters: unpacks the {@code (input, output)} pair of the forward contract of
 * {@link Adapter} into {@link #adapt}.
 */
public abstract class AdapterBlock extends ModuleBlock implements Adapter {

    private final String name;

    protected AdapterBlock(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    /**
     * Returns the new site output.
     *
     * @param input what entered the site
     * @param output what the frozen op and earlier adapters produced
     */
    protected abstract NDArray adapt(
            ParameterStore store, NDArray input, NDArray output, boolean training);

    @Override
    protected final NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        if (inputs.size() != 2) {
            throw new IllegalArgumentException(
                    "adapter " + name + " expects (input, output), got " + inputs.size() + " arrays");
        }
        return new NDList(adapt(store, inputs.get(0), inputs.get(1), training));
    }
}
