package org.peft4j.api.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import org.peft4j.api.site.AdapterBlock;

/**
 * An adapter that records what its site hands it (the last forward's input, output and training flag) and returns
 * the output unchanged: attach it to see what a site computes.
 */
public final class Capture extends AdapterBlock {

    private NDArray input;
    private NDArray output;
    private boolean training;

    public Capture() {
        super("capture");
    }

    @Override
    protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
        this.input = input;
        this.output = output;
        this.training = training;
        return output;
    }

    /** What entered the site in the last forward pass. */
    public NDArray input() {
        return input;
    }

    /** What the site's frozen op (and earlier adapters) produced in the last forward pass. */
    public NDArray output() {
        return output;
    }

    /** The training flag of the last forward pass. */
    public boolean training() {
        return training;
    }
}
