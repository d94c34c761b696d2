package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.peft4j.api.Intermediates;
import org.peft4j.api.nn.Ops;

/**
 * The paper's Eq. 6 on two stochastic passes (different experts, different dropout):
 *
 * <pre>{@code L = CE(p1, y) + alpha/2 (KL(p1 || p2) + KL(p2 || p1)) + beta * sum_{aligned i} MSE(f1_i, f2_i)}</pre>
 *
 * KL is summed over classes and averaged over the batch ({@code batchmean}); MSE averages over every element of a
 * block's output. With {@code stopGradient} (the code's R-Drop form) each KL term's target distribution is held
 * fixed: {@code KL(sg p2 || p1) + KL(sg p1 || p2)}, the same value with a different gradient. {@link
 * AlignScaling#CODE} multiplies the MSE sum by {@code 0.01 / L} as the authors' {@code deepreg_MSE_loss} does.
 */
final class ConsistencyLoss {

    /** Which blocks' outputs are aligned (Table 8). */
    enum Align {
        /** The first L/2 blocks (the paper's best and its text: "the first L/2 layers"). */
        SHALLOW,
        /** The last L/2 blocks. */
        DEEP,
        ALL,
        NONE;

        /** The aligned block indices of a model with {@code depth} blocks. */
        Set<Integer> blocks(int depth) {
            Set<Integer> out = new TreeSet<>();
            int half = depth / 2;
            int from = this == DEEP ? depth - half : 0;
            int to = switch (this) {
                case SHALLOW -> half;
                case DEEP, ALL -> depth;
                case NONE -> 0;
            };
            for (int i = from; i < to; i++) {
                out.add(i);
            }
            return out;
        }

        String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Align of(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    /** How the summed MSE is scaled. */
    enum AlignScaling {
        /** {@code beta * sum} (Eq. 6). */
        SUM,
        /** {@code beta * 0.01 / L * sum} (the code, L = number of blocks). */
        CODE;

        String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        static AlignScaling of(String value) {
            return valueOf(value.toUpperCase(Locale.ROOT));
        }
    }

    private final double alpha;
    private final double beta;
    private final boolean stopGradient;
    private final Align align;
    private final AlignScaling scaling;

    ConsistencyLoss(double alpha, double beta, boolean stopGradient, Align align, AlignScaling scaling) {
        this.alpha = alpha;
        this.beta = beta;
        this.stopGradient = stopGradient;
        this.align = align;
        this.scaling = scaling;
    }

    /** Blocks whose outputs a pass must record (none when alignment is off). */
    Set<Integer> alignedBlocks(int depth) {
        return beta == 0 ? Set.of() : align.blocks(depth);
    }

    /** 2 when a term compares two passes, else 1 (Table 7's "none": one pass, cross-entropy only). */
    int passes(int depth) {
        return alpha != 0 || !alignedBlocks(depth).isEmpty() ? 2 : 1;
    }

    /** {@code alpha/2 (KL(p1||p2) + KL(p2||p1))} over logits {@code [B, C]}, batch-averaged. */
    NDArray symmetricKl(NDArray logits1, NDArray logits2) {
        NDArray log1 = logits1.logSoftmax(-1);
        NDArray log2 = logits2.logSoftmax(-1);
        // KL(target || input) = sum target * (log target - log input); the target is the held one under stop-gradient
        NDArray first = kl(log2, log1);
        NDArray second = kl(log1, log2);
        long batch = logits1.getShape().get(0);
        return Ops.scale(first.add(second), alpha / 2 / batch);
    }

    private NDArray kl(NDArray logTarget, NDArray logInput) {
        NDArray target = stopGradient ? logTarget.stopGradient() : logTarget;
        return target.exp().mul(target.sub(logInput)).sum();
    }

    /** {@code beta * sum_i MSE(f1_i, f2_i)} over the aligned blocks (scaled by 0.01 / depth under {@code code}). */
    NDArray alignment(Intermediates first, Intermediates second, int depth) {
        NDArray sum = null;
        for (int block : alignedBlocks(depth)) {
            NDArray mse = first.block(block).sub(second.block(block)).square().mean();
            sum = sum == null ? mse : sum.add(mse);
        }
        if (sum == null) {
            throw new IllegalStateException("no aligned blocks");
        }
        double factor = scaling == AlignScaling.CODE ? beta * 0.01 / depth : beta;
        return Ops.scale(sum, factor);
    }
}
