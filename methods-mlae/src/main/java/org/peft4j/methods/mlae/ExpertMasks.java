package org.peft4j.methods.mlae;

import java.util.Arrays;
import java.util.Random;
import org.peft4j.api.MaskStrategy;
import org.peft4j.api.StepContext;

/**
 * MLAE's masks for every mask group: group g keeps its first {@code kept[g]} experts for good (fixed masking;
 * the others are 0 in every mask), and each step drops each kept expert with probability {@code p[g]},
 * scaling the survivors by {@code 1/(1-p[g])} (inverted dropout on lambda, Eq. 5). One mask per group per step,
 * shared by the whole batch. A group is one adapted site (the default: the authors' code draws a mask per wrapped
 * linear) or one block, whose sites then share the mask; with one adapted site per block (the paper's fused qkv)
 * both are the same. The {@link MaskStrategy} layer index is the group index. At inference the kept experts are
 * on, unscaled.
 *
 * <p>A draw reads only {@link StepContext#random()}, in group then expert order, so the same run seed gives
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
     * @param experts experts per group (at least the largest {@code kept})
     * @param kept experts each group keeps (fixed masking), in [0, experts]
     * @param dropout each group's dropout probability, in [0, 1)
     */
    public ExpertMasks(int experts, int[] kept, double[] dropout) {
        if (kept.length != dropout.length) {
            throw new IllegalArgumentException("kept and dropout need one entry per group, got " + kept.length
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
                throw new IllegalArgumentException("group " + l + " keeps " + kept[l] + " of " + experts + " experts");
            }
            if (!(dropout[l] >= 0 && dropout[l] < 1)) {
                throw new IllegalArgumentException("group " + l + " has dropout " + dropout[l] + ", not in [0, 1)");
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

    /** Number of mask groups. */
    public int groups() {
        return kept.length;
    }

    /** Experts group {@code group} keeps for good. */
    public int kept(int group) {
        return kept[group];
    }

    /** Group {@code group}'s dropout probability. */
    public double dropout(int group) {
        return dropout[group];
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
    public float[] trainingMask(int group) {
        if (random && !drawn) {
            throw new IllegalStateException("MLAE: no expert mask drawn yet; the training loop must call "
                    + "hooks().beforeForward(step) before a training forward pass");
        }
        return training[check(group)];
    }

    @Override
    public float[] inferenceMask(int group) {
        return inference[check(group)];
    }

    @Override
    public int trainableExperts(int group) {
        return kept[check(group)];
    }

    private int check(int group) {
        if (group < 0 || group >= kept.length) {
            throw new IndexOutOfBoundsException("MLAE masks cover groups 0.." + (kept.length - 1) + ", not " + group);
        }
        return group;
    }
}
