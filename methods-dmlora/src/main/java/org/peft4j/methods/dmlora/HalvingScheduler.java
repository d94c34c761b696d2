package org.peft4j.methods.dmlora;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.peft4j.api.BranchScheduler;

/**
 * DMLoRA's mixture dropout for one factor (Section 3.2, Fig. 3): {@code initial} branches, halved every
 * {@code every} epochs down to {@code floor}, by random dropout or by averaging pairs; routes are uniform over
 * the live branches. With {@link Reduction#NONE} the count never changes (scheme A, AdaMix-like).
 */
public final class HalvingScheduler implements BranchScheduler {

    /** How a halving removes branches. */
    public enum Reduction {
        /** Never (scheme A). */
        NONE,
        /** Keep a uniformly random subset (the paper's random dropout halving). */
        DROP,
        /** Average random pairs into one branch each (scheme B, average aggregating halving). */
        AVERAGE
    }

    private final int initial;
    private final int every;
    private final int floor;
    private final boolean roundUp;
    private final Reduction reduction;

    /**
     * @param initial branches at epoch 0
     * @param every epochs between halvings (k)
     * @param floor the count never goes below (at most {@code initial})
     * @param roundUp an odd count halves to its ceiling (7 -> 4) rather than its floor (7 -> 3)
     */
    public HalvingScheduler(int initial, int every, int floor, boolean roundUp, Reduction reduction) {
        if (initial < 1 || every < 1 || floor < 1 || floor > initial) {
            throw new IllegalArgumentException("bad halving schedule: " + initial + " branches, every " + every
                    + " epochs, floor " + floor);
        }
        this.initial = initial;
        this.every = every;
        this.floor = floor;
        this.roundUp = roundUp;
        this.reduction = reduction;
    }

    /** One branch for good: a factor shared by every step (schemes C and D). */
    public static HalvingScheduler single() {
        return new HalvingScheduler(1, 1, 1, true, Reduction.NONE);
    }

    public Reduction reduction() {
        return reduction;
    }

    @Override
    public int liveBranches(int epoch) {
        if (reduction == Reduction.NONE) {
            return initial;
        }
        int live = initial;
        for (int halvings = epoch / every; halvings > 0 && live > floor; halvings--) {
            live = Math.max(floor, roundUp ? (live + 1) / 2 : live / 2);
        }
        return live;
    }

    @Override
    public List<int[]> shrink(int from, int to, Random random) {
        if (to < 1 || to >= from) {
            throw new IllegalArgumentException("cannot shrink " + from + " branches to " + to);
        }
        int[] order = permutation(from, random);
        List<int[]> groups = new ArrayList<>(to);
        switch (reduction) {
            case DROP -> {
                int[] kept = Arrays.copyOf(order, to);
                Arrays.sort(kept); // survivors keep their relative order
                for (int k : kept) {
                    groups.add(new int[] {k});
                }
            }
            case AVERAGE -> {
                // `to` groups of random members, sizes differing by at most one: 8 -> 4 gives four pairs,
                // 3 -> 2 a pair and a single branch that stays as it is
                int start = 0;
                for (int g = 0; g < to; g++) {
                    int size = from / to + (g < from % to ? 1 : 0);
                    int[] group = Arrays.copyOfRange(order, start, start + size);
                    Arrays.sort(group);
                    groups.add(group);
                    start += size;
                }
            }
            case NONE -> throw new IllegalStateException("a schedule without reduction never shrinks");
        }
        return groups;
    }

    @Override
    public int route(int depth, int live, Random random) {
        return random.nextInt(live);
    }

    /** A uniformly random permutation of 0..n-1. */
    private static int[] permutation(int n, Random random) {
        List<Integer> order = new ArrayList<>(IntStream.range(0, n).boxed().toList());
        Collections.shuffle(order, random);
        return order.stream().mapToInt(Integer::intValue).toArray();
    }

    @Override
    public String toString() {
        return reduction == Reduction.NONE ? initial + " branches, no reduction"
                : initial + " branches, halved (" + reduction.name().toLowerCase(java.util.Locale.ROOT) + ") every "
                        + every + " epochs down to " + floor;
    }
}
