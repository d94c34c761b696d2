package org.peft4j.methods.mosa;

import java.util.Arrays;
import java.util.Random;

/**
 * The paper's sparse split (Sec. 3.2, Eq. 3; the code's {@code Pruner.divide}): a score S ~ U(0, 1) per entry of a
 * tensor, cut at its N-quantiles; expert i owns the entries whose score lies in bin i. Bins are taken by rank, as
 * the code's {@code kthvalue} thresholds do: with n entries, expert i owns the ranks {@code floor(i n / N) ..
 * floor((i + 1) n / N) - 1}, so the N masks are disjoint, cover every entry and differ in size by at most one.
 */
public final class SplitMasks {

    private SplitMasks() {}

    /**
     * The owning expert of each of {@code size} entries (row-major), drawn from {@code random}.
     *
     * @throws IllegalArgumentException if {@code experts} is not in {@code 1 .. size}
     */
    public static int[] owners(int size, int experts, Random random) {
        if (experts < 1 || experts > size) {
            throw new IllegalArgumentException("cannot split " + size + " entries into " + experts + " non-empty experts");
        }
        double[] scores = new double[size];
        for (int i = 0; i < size; i++) {
            scores[i] = random.nextDouble();
        }
        Integer[] byScore = new Integer[size];
        Arrays.setAll(byScore, i -> i);
        Arrays.sort(byScore, (a, b) -> Double.compare(scores[a], scores[b]));
        int[] owner = new int[size];
        for (int expert = 0; expert < experts; expert++) {
            int from = (int) ((long) expert * size / experts);
            int to = (int) ((long) (expert + 1) * size / experts);
            for (int rank = from; rank < to; rank++) {
                owner[byScore[rank]] = expert;
            }
        }
        return owner;
    }

    /** The 0/1 mask of {@code expert} for an owner map. */
    public static float[] mask(int[] owner, int expert) {
        float[] mask = new float[owner.length];
        for (int i = 0; i < owner.length; i++) {
            mask[i] = owner[i] == expert ? 1f : 0f;
        }
        return mask;
    }
}
