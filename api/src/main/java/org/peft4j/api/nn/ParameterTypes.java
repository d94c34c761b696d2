package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;

/** Changing the stored type of a parameter (fp16 frozen weights, fp32 master copies). */
public final class ParameterTypes {

    private ParameterTypes() {}

    /**
     * Stores {@code parameter}'s values in {@code type} from now on, in the same manager, keeping its gradient
     * flag. The parameter gets a new NDArray object: {@code NDArray.intern} would keep the object but DJL caches an
     * array's data type, which would then lie. Nothing may hold the old array (call it outside any step scope).
     */
    public static void convert(Parameter parameter, DataType type) {
        NDArray old = parameter.getArray();
        if (old.getDataType() == type) {
            return;
        }
        NDManager home = old.getManager();
        NDArray converted = old.toType(type, true);
        Initializer initializer = parameter.getInitializer();
        parameter.close(); // frees the old array; the parameter is uninitialised until the next line
        parameter.setInitializer((manager, shape, dataType) -> converted);
        parameter.initialize(home, type);
        parameter.setInitializer(initializer);
    }
}
