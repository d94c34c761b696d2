package org.peft4j.api.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.initializer.ConstantInitializer;
import ai.djl.training.initializer.Initializer;

/** The initialisations the papers and timm use, drawn from the engine's seeded random stream. */
public final class Initializers {

    private Initializers() {}

    public static Initializer zeros() {
        return new ConstantInitializer(0f);
    }

    public static Initializer ones() {
        return new ConstantInitializer(1f);
    }

    public static Initializer constant(float value) {
        return new ConstantInitializer(value);
    }

    /**
     * PyTorch's {@code kaiming_uniform_(w, a=sqrt(5))}, the default of {@code nn.Linear} and of LoRA's A:
     * U(-b, b) with b = 1/sqrt(fan_in), fan_in = product of all dimensions but the first.
     */
    public static Initializer kaimingUniformSqrt5() {
        return (manager, shape, dataType) -> {
            double bound = 1.0 / Math.sqrt(fanIn(shape));
            return uniform(manager, shape, dataType, bound);
        };
    }

    /** U(-bound, bound). */
    public static Initializer uniform(double bound) {
        return (manager, shape, dataType) -> uniform(manager, shape, dataType, bound);
    }

    /** N(0, std^2). */
    public static Initializer normal(double std) {
        return (manager, shape, dataType) ->
                manager.randomNormal(0f, (float) std, shape, dataType);
    }

    /** timm's {@code trunc_normal_(std)}: N(0, std^2) truncated to [-2, 2] (absolute, as timm). */
    public static Initializer truncNormal(double std) {
        return (manager, shape, dataType) -> {
            NDArray sample = manager.randomNormal(0f, (float) std, shape, dataType);
            NDArray clipped = sample.clip(-2f, 2f);
            sample.close();
            return clipped;
        };
    }

    /**
     * Xavier (Glorot) uniform with the fans of {@code [out, in, ...]} weights: U(-b, b) with
     * b = sqrt(6 / (fan_in + fan_out)). VPT initialises prompts with it.
     */
    public static Initializer xavierUniform(long fanIn, long fanOut) {
        return (manager, shape, dataType) ->
                uniform(manager, shape, dataType, Math.sqrt(6.0 / (fanIn + fanOut)));
    }

    private static long fanIn(Shape shape) {
        return shape.dimension() < 2 ? shape.get(0) : shape.size() / shape.get(0);
    }

    private static NDArray uniform(NDManager manager, Shape shape, DataType dataType, double bound) {
        return manager.randomUniform((float) -bound, (float) bound, shape, dataType);
    }
}
