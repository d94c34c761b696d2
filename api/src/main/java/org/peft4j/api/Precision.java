package org.peft4j.api;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.util.Locale;
import org.peft4j.api.nn.ParameterTypes;

/**
 * The numeric format of training and evaluation.
 *
 * <ul>
 *   <li>{@code fp32}: everything in fp32.
 *   <li>{@code tf32}: fp32 tensors, CUDA matmuls in TF32 (PyTorch reads {@code TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1}
 *       from the environment when cuBLAS starts; the runner's launcher sets it); the same as fp32 on the CPU.
 *   <li>{@code fp16}: frozen weights converted once to fp16 and kept so; trainable weights stay fp32 (the
 *       optimiser's master copies) and are cast to fp16 where they are read ({@code ModuleBlock.value}, with a cast
 *       that keeps their gradient); images enter in fp16, logits leave in fp32 for the loss; the runner scales the
 *       loss dynamically.
 *       LayerNorm, softmax and the fused attention accumulate in fp32 inside PyTorch's kernels.
 * </ul>
 */
public enum Precision {
    FP32, TF32, FP16;

    /** The config spelling. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Type of activations and frozen weights. */
    public DataType computeType() {
        return this == FP16 ? DataType.FLOAT16 : DataType.FLOAT32;
    }

    /** Parses fp32 / tf32 / fp16, or {@code auto}: tf32 on CUDA, fp32 on the CPU. The error names {@code where}. */
    public static Precision parse(String value, Device device, String where) {
        if (value.equals("auto")) {
            return device.isGpu() ? TF32 : FP32;
        }
        for (Precision p : values()) {
            if (p.id().equals(value)) {
                return p;
            }
        }
        throw new PeftException(where + ": expected one of [auto, fp32, tf32, fp16], got '" + value + "'");
    }

    /**
     * Stores every frozen fp32 parameter in the block tree under {@code root} in {@link #computeType()} (later calls
     * convert only what is new). Trainable ones keep fp32. Call it outside any step scope.
     */
    public void convertFrozen(Block root) {
        if (computeType() == DataType.FLOAT32) {
            return;
        }
        for (Pair<String, Parameter> p : root.getParameters()) {
            Parameter parameter = p.getValue();
            if (parameter.isInitialized() && !parameter.requiresGradient()
                    && parameter.getArray().getDataType() == DataType.FLOAT32) {
                ParameterTypes.convert(parameter, computeType());
            }
        }
    }
}
