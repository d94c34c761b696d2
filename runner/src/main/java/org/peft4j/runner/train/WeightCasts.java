package org.peft4j.runner.train;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.nn.TorchScriptOp;

/**
 * The model's parameter store, which under fp16 hands a training step the fp16 copies of the trainable fp32 weights
 * (AdamW's master copies) made for the whole model in one TorchScript call ({@code cast_all.pt}) as the step
 * starts. Cast where each weight is read, that was one call per weight (about fifty for ViT-B + LoRA), each costing
 * the host tens of microseconds while a GPU waited. The casts keep their gradients, like {@code Cast.to}.
 */
final class WeightCasts extends ParameterStore {

    /** The argument name by which DJL passes an array as an element of a TorchScript {@code List[Tensor]}. */
    private static final String LIST_ELEMENT = "weights[]";

    private Map<Parameter, NDArray> casts = Map.of();

    WeightCasts(NDManager manager) {
        super(manager, false);
    }

    @Override
    public NDArray getValue(Parameter parameter, Device device, boolean training) {
        NDArray cast = casts.get(parameter);
        return cast != null && cast.getDevice().equals(device) ? cast : super.getValue(parameter, device, training);
    }

    /**
     * Casts {@code weights} (those not of {@code type} already) to {@code type} in {@code scope} and serves the casts
     * until the returned handle is closed. Call it inside the step's gradient collector.
     */
    Active cast(List<Parameter> weights, DataType type, NDManager scope) {
        List<Parameter> toCast = weights.stream().filter(p -> p.getArray().getDataType() != type).toList();
        if (toCast.isEmpty()) {
            return () -> {};
        }
        Map<Parameter, NDArray> made = new IdentityHashMap<>();
        List<NDArray> values = castAll(toCast.stream().map(Parameter::getArray).toList(), type, scope);
        for (int i = 0; i < toCast.size(); i++) {
            made.put(toCast.get(i), values.get(i));
        }
        casts = made;
        return () -> casts = Map.of();
    }

    /** Every array of {@code arrays} as {@code type}, new arrays in {@code scope}, gradients kept. */
    static List<NDArray> castAll(List<NDArray> arrays, DataType type, NDManager scope) {
        NDArray like = scope.create(new Shape(0), type, arrays.get(0).getDevice());
        NDList inputs = new NDList(like); // first: DJL puts the outputs in the first input's manager
        List<String> names = new ArrayList<>(arrays.size());
        for (NDArray a : arrays) {
            names.add(a.getName());
            a.setName(LIST_ELEMENT);
            inputs.add(a);
        }
        try {
            return IValueUtils.forward(module(), inputs, true);
        } finally {
            for (int i = 0; i < arrays.size(); i++) {
                arrays.get(i).setName(names.get(i));
            }
            like.close();
        }
    }

    private static PtSymbolBlock module() {
        return (PtSymbolBlock) TorchScriptOp.of(WeightCasts.class, "cast_all.pt").block();
    }

    /** The casts being served; closing stops serving them (they die with the step's scope). */
    interface Active extends AutoCloseable {
        @Override
        void close();
    }
}
