package org.peft4j.methods.mlae;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * How masking varies over depth (MLAE, Section 4.4 and Appendix A.5). The paper gives the numbers for the 12
 * blocks of ViT-B with rank 8; names describe the expected number of active experts per layer, not the
 * dropout rate:
 *
 * <ul>
 *   <li>fixed masking, experts per block (each pattern keeps 96 = 12 x 8 experts): incremental {@code [2, 2, 2,
 *       6, 6, 6, 10, 10, 10, 14, 14, 14]}, decremental its reverse, hourglass {@code [14, 14, 14, 2, 2, 2, 2,
 *       2, 2, 14, 14, 14]}, protruding {@code [2, 2, 2, 14, 14, 14, 14, 14, 14, 2, 2, 2]}, random: integers
 *       in [1, 14] averaging 8; uniform: 8 everywhere. (The extracted paper text lists 13 and 11 numbers for
 *       hourglass and protruding; the budget of 96 and Fig. 2 fix them as above.)
 *   <li>stochastic masking, dropout probability per block: incremental {@code [0.8, 0.8, 0.7, 0.7, 0.6,
 *       0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]}, decremental {@code [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.7,
 *       0.7, 0.8, 0.8]}, hourglass {@code [0.0, 0.1, 0.3, 0.5, 0.6, 0.8, 0.8, 0.6, 0.5, 0.3, 0.1, 0.0]},
 *       protruding {@code [0.8, 0.6, 0.5, 0.3, 0.1, 0.0, 0.0, 0.1, 0.3, 0.5, 0.6, 0.8]}; uniform: one p for
 *       all blocks (the paper's method). The paper has no stochastic random pattern; here it draws each
 *       block's p from {0.0, 0.1, ..., 0.8}, the range the other patterns use.
 * </ul>
 *
 * Other depths: block l of L sits at position {@code (l + 0.5) * 12 / L - 0.5} of the 12-block curve, read
 * by linear interpolation (exactly the paper's numbers at L = 12). Other ranks: expert counts are the curve
 * scaled to a total of {@code L * rank}, rounded by largest remainder so the total is exact; the random
 * pattern draws counts in {@code [1, round(1.75 * rank)]} (1..14 at rank 8) and fixes the total.
 */
public enum LayerPattern {
    UNIFORM(null, null),
    INCREMENTAL(
            new double[] {2, 2, 2, 6, 6, 6, 10, 10, 10, 14, 14, 14},
            new double[] {0.8, 0.8, 0.7, 0.7, 0.6, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0}),
    DECREMENTAL(
            new double[] {14, 14, 14, 10, 10, 10, 6, 6, 6, 2, 2, 2},
            new double[] {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6, 0.7, 0.7, 0.8, 0.8}),
    HOURGLASS(
            new double[] {14, 14, 14, 2, 2, 2, 2, 2, 2, 14, 14, 14},
            new double[] {0.0, 0.1, 0.3, 0.5, 0.6, 0.8, 0.8, 0.6, 0.5, 0.3, 0.1, 0.0}),
    PROTRUDING(
            new double[] {2, 2, 2, 14, 14, 14, 14, 14, 14, 2, 2, 2},
            new double[] {0.8, 0.6, 0.5, 0.3, 0.1, 0.0, 0.0, 0.1, 0.3, 0.5, 0.6, 0.8}),
    RANDOM(null, null);

    /** Blocks of the paper's reference model (ViT-B). */
    static final int REFERENCE_DEPTH = 12;

    /** Largest per-block dropout of the paper's patterns; the random pattern draws from [0, this]. */
    static final double MAX_PATTERN_DROPOUT = 0.8;

    private final double[] experts;
    private final double[] dropout;

    LayerPattern(double[] experts, double[] dropout) {
        this.experts = experts;
        this.dropout = dropout;
    }

    /** The config spelling: lower case. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The pattern named {@code name} (case-insensitive), or null. */
    static LayerPattern parse(String name) {
        for (LayerPattern p : values()) {
            if (p.configName().equals(name.trim().toLowerCase(Locale.ROOT))) {
                return p;
            }
        }
        return null;
    }

    /** Largest count the random pattern draws (and the largest the paper's patterns use): 14 at rank 8. */
    static int maxRandomExperts(int rank) {
        return Math.max(1, (int) Math.round(1.75 * rank));
    }

    /**
     * Experts per block for fixed masking, {@code depth} blocks, total {@code depth * rank}. {@code random}
     * is only read by {@link #RANDOM}.
     */
    int[] expertCounts(int depth, int rank, Random random) {
        int total = depth * rank;
        return switch (this) {
            case UNIFORM -> filled(depth, rank);
            case RANDOM -> randomCounts(depth, total, maxRandomExperts(rank), random);
            default -> apportion(interpolate(experts, depth), total);
        };
    }

    /** Dropout probability per block for stochastic masking; {@code uniform} is UNIFORM's value. */
    double[] dropouts(int depth, double uniform, Random random) {
        return switch (this) {
            case UNIFORM -> {
                double[] p = new double[depth];
                Arrays.fill(p, uniform);
                yield p;
            }
            case RANDOM -> {
                double[] p = new double[depth];
                int steps = (int) Math.round(MAX_PATTERN_DROPOUT * 10);
                for (int l = 0; l < depth; l++) {
                    p[l] = random.nextInt(steps + 1) / 10.0;
                }
                yield p;
            }
            default -> interpolate(dropout, depth);
        };
    }

    /** The 12-block curve read at the centres of {@code depth} equal parts, by linear interpolation. */
    static double[] interpolate(double[] reference, int depth) {
        int n = reference.length;
        double[] values = new double[depth];
        for (int l = 0; l < depth; l++) {
            double t = (l + 0.5) * n / depth - 0.5;
            t = Math.min(Math.max(t, 0), n - 1);
            int lo = (int) Math.floor(t);
            int hi = Math.min(lo + 1, n - 1);
            double frac = t - lo;
            values[l] = reference[lo] * (1 - frac) + reference[hi] * frac;
        }
        return values;
    }

    /** Integers proportional to {@code weights} summing to {@code total} (largest remainder, ties to the lower block). */
    static int[] apportion(double[] weights, int total) {
        double sum = Arrays.stream(weights).sum();
        int[] counts = new int[weights.length];
        double[] remainders = new double[weights.length];
        int assigned = 0;
        for (int l = 0; l < weights.length; l++) {
            double exact = weights[l] * total / sum;
            counts[l] = (int) Math.floor(exact + 1e-9);
            remainders[l] = exact - counts[l];
            assigned += counts[l];
        }
        for (int left = total - assigned; left > 0; left--) {
            int best = 0;
            for (int l = 1; l < weights.length; l++) {
                if (remainders[l] > remainders[best] + 1e-12) {
                    best = l;
                }
            }
            counts[best]++;
            remainders[best] = -1;
        }
        return counts;
    }

    private static int[] filled(int depth, int value) {
        int[] counts = new int[depth];
        Arrays.fill(counts, value);
        return counts;
    }

    /** Uniform draws in [1, max], then single steps on random blocks until the total is exact. */
    private static int[] randomCounts(int depth, int total, int max, Random random) {
        int[] counts = new int[depth];
        int sum = 0;
        for (int l = 0; l < depth; l++) {
            counts[l] = 1 + random.nextInt(max);
            sum += counts[l];
        }
        while (sum != total) {
            int l = random.nextInt(depth);
            if (sum > total && counts[l] > 1) {
                counts[l]--;
                sum--;
            } else if (sum < total && counts[l] < max) {
                counts[l]++;
                sum++;
            }
        }
        return counts;
    }
}
