package org.peft4j.runner.train;

import ai.djl.Device;
import org.peft4j.api.PeftException;
import org.peft4j.api.Precision;

/**
 * PyTorch turns TF32 matmuls on for fp32 CUDA tensors when {@code TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1} is in the
 * environment as cuBLAS starts; DJL has no other switch and a JVM cannot change its own environment, so the
 * precision asked for must agree with the environment the process was started in.
 */
public final class Tf32 {

    public static final String VARIABLE = "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE";

    private Tf32() {}

    /** Whether this process's fp32 CUDA matmuls run in TF32. */
    public static boolean onByEnvironment() {
        return "1".equals(System.getenv(VARIABLE));
    }

    /** Fails, saying what to set, when {@code precision} on {@code device} cannot be had in this process. */
    public static void requireFor(Precision precision, Device device) {
        if (!device.isGpu()) {
            return;
        }
        if (precision == Precision.TF32 && !onByEnvironment()) {
            throw new PeftException("precision tf32 on " + device + " needs " + VARIABLE + "=1 in the environment before "
                    + "java starts (the ./peft4j launcher sets it); or choose compute.precision = fp32 or fp16");
        }
        if (precision == Precision.FP32 && onByEnvironment()) {
            throw new PeftException("precision fp32 on " + device + ", but " + VARIABLE + "=1 in the environment makes "
                    + "every fp32 matmul TF32; start java with " + VARIABLE + "=0 (or unset), or choose precision tf32");
        }
    }
}
