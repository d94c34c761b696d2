package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;

/** Replacing a parameter's values in place (checkpoint loading, resuming a run). */
public final class ParameterValues {

    private ParameterValues() {}

    /** Replaces the parameter's values, keeping its NDArray object, dtype, device and gradient flag. */
    public static void assign(Parameter param, NDArray value) {
        NDArray target = param.getArray();
        // duplicate() clones: DJL's toType/toDevice may share storage, and arrays read from files wrap
        // Java buffers that die with the read scope
        NDArray fresh = value.toType(target.getDataType(), false).toDevice(target.getDevice(), false).duplicate();
        target.intern(fresh);
        if (param.requiresGradient()) {
            target.setRequiresGradient(true);
        }
    }
}
