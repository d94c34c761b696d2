package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import org.peft4j.api.Precision;
import org.peft4j.api.nn.Ops;

/**
 * Dynamic loss scaling for fp16 (as PyTorch's {@code GradScaler}): the loss is multiplied by the scale before
 * backward, so small gradients survive fp16; the optimiser divides it out. A step whose gradients hold an inf or
 * NaN is skipped and the scale halves; after {@code growthInterval} good steps in a row it doubles.
 */
public final class LossScaler {

    /** PyTorch's GradScaler defaults. */
    public static final double INITIAL_SCALE = 65536.0;
    public static final int GROWTH_INTERVAL = 2000;

    private final boolean enabled;
    private final int growthInterval;
    private double scale;
    private int goodSteps;
    private long skipped;

    private LossScaler(boolean enabled, double scale, int growthInterval) {
        this.enabled = enabled;
        this.scale = scale;
        this.growthInterval = growthInterval;
    }

    /** No scaling (fp32, tf32): non-finite gradients are not checked here. */
    public static LossScaler none() {
        return new LossScaler(false, 1.0, Integer.MAX_VALUE);
    }

    public static LossScaler dynamic(double initialScale, int growthInterval) {
        if (!(initialScale > 0) || growthInterval < 1) {
            throw new IllegalArgumentException("loss scale must be > 0 and the growth interval >= 1");
        }
        return new LossScaler(true, initialScale, growthInterval);
    }

    /** What a precision needs: dynamic scaling for fp16, none otherwise. */
    public static LossScaler forPrecision(Precision precision) {
        return precision == Precision.FP16 ? dynamic(INITIAL_SCALE, GROWTH_INTERVAL) : none();
    }

    public boolean enabled() {
        return enabled;
    }

    public double scale() {
        return scale;
    }

    /** Steps skipped so far for non-finite gradients. */
    public long skipped() {
        return skipped;
    }

    /** Good steps in a row since the scale last changed (saved with a checkpoint). */
    public int goodSteps() {
        return goodSteps;
    }

    /** Continues from a checkpoint's scale and good-step count (no-op when scaling is off). */
    public void restore(double savedScale, int savedGoodSteps) {
        if (enabled) {
            this.scale = savedScale;
            this.goodSteps = savedGoodSteps;
        }
    }

    /** {@code loss * scale}, to backpropagate. */
    public NDArray scaled(NDArray loss) {
        return enabled ? Ops.scale(loss, scale) : loss;
    }

    /**
     * Records a step's outcome: {@code finite} false means the optimiser skipped it. Returns whether it was applied.
     */
    boolean update(boolean finite) {
        if (!enabled) {
            return true;
        }
        if (!finite) {
            scale /= 2;
            goodSteps = 0;
            skipped++;
            return false;
        }
        if (++goodSteps >= growthInterval) {
            scale *= 2;
            goodSteps = 0;
        }
        return true;
    }
}
