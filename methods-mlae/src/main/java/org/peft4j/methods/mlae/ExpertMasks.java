package org.peft4j.methods.mlae;

import java.util.Arrays;
import java.util.Random;
import org.peft4j.api.MaskStrategy;
import org.peft4j.api.StepContext;

/**
 * MLAE's masks for every block: block l keeps its first {@code kept[l]} experts for good (fixed masking;
 * the others are 0 in every mask), and each step drops each kept expert with probability {@code p[l]},
 * scaling the survivors by {@code 1/(1-p[l])} (inverted dropout on lambda, Eq. 5). One mask per block per
 * step, shared by the whole batch and by every site of the block. At inference the kept experts are on,
 * unscaled.
 *
 * <p>A draw reads only {@link StepContext#random()}, in block then expert order, so the same run seed gives
 * the same masks. Without any p &gt; 0 there is nothing to draw and the training mask is the inference mask.
 */
public final class ExpertMasks implements MaskStrategy {

    private final int experts;
    private final int[] kept;
    private final double[] dropout;
    private final float[][] inference;
    private final float[][] training;
    private final boolean random;
    private boolean drawn;

    /**
     * @param experts experts per block (at least the largest {@code kept})
     * @param kept experts each block keeps (fixed masking), in [0, experts]
     * @param dropout each block's dropout probability, in [0, 1)
     */
    public ExpertMasks(int experts, int[] kept, double[] dropout) {
        if (kept.length != dropout.length) {
            throw new IllegalArgumentException("kept and dropout need one entry per block, got " + kept.length
                    + " and " + dropout.length);
        }
        this.experts = experts;
        this.kept = kept.clone();
        this.dropout = dropout.clone();
        this.inference = new float[kept.length][experts];
        this.training = new float[kept.length][experts];
        boolean anyRandom = false;
        for (int l = 0; l < kept.length; l++) {
            if (kept[l] < 0 || kept[l] > experts) {
                throw new IllegalArgumentException("block " + l + " keeps " + kept[l] + " of " + experts + " experts");
            }
            if (!(dropout[l] >= 0 && dropout[l] < 1)) {
                throw new IllegalArgumentException("block " + l + " has dropout " + dropout[l] + ", not in [0, 1)");
            }
            Arrays.fill(inference[l], 0, kept[l], 1f);
            System.arraycopy(inference[l], 0, training[l], 0, experts);
            anyRandom |= dropout[l] > 0 && kept[l] > 0;
        }
        this.random = anyRandom;
    }

    @Override
    public int experts() {
        return experts;
    }

    /** Number of blocks. */
    public int depth() {
        return kept.length;
    }

    /** Experts block {@code depth} keeps for good. */
    public int kept(int depth) {
        return kept[depth];
    }

    /** Block {@code depth}'s dropout probability. */
    public double dropout(int depth) {
        return dropout[depth];
    }

    @Override
    public void draw(StepContext step) {
        Random rnd = step.random();
        for (int l = 0; l < kept.length; l++) {
            double p = dropout[l];
            if (p == 0) {
                continue; // training[l] already equals inference[l]
            }
            float scale = (float) (1.0 / (1.0 - p));
            for (int i = 0; i < kept[l]; i++) {
                training[l][i] = rnd.nextDouble() < p ? 0f : scale;
            }
        }
        drawn = true;
    }

    @Override
    public float[] trainingMask(int depth) {
        if (random && !drawn) {
            throw new IllegalStateException("MLAE: no expert mask drawn yet; the training loop must call "
                    + "hooks().beforeForward(step) before a training forward pass");
        }
        return training[check(depth)];
    }

    @Override
    public float[] inferenceMask(int depth) {
        return inference[check(depth)];
    }

    @Override
    public int trainableExperts(int depth) {
        return kept[check(depth)];
    }

    private int check(int depth) {
        if (depth < 0 || depth >= kept.length) {
            throw new IndexOutOfBoundsException("MLAE masks cover blocks 0.." + (kept.length - 1) + ", not " + depth);
        }
        return depth;
    }
}
