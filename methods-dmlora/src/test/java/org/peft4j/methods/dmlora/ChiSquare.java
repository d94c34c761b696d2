package org.peft4j.methods.dmlora;

/**
 * Pearson's chi-square statistics for the routing tests, with critical values at the 0.001 level (from the
 * chi-square quantile table; the tests are seeded, so a pass or a fail is reproducible).
 */
final class ChiSquare {

    /** chi2(0.999) for 3, 7 and 49 degrees of freedom. */
    static final double CRITICAL_3 = 16.266;
    static final double CRITICAL_7 = 24.322;
    static final double CRITICAL_49 = 85.351;

    private ChiSquare() {}

    /** Goodness of fit of {@code counts} to the uniform distribution (k - 1 degrees of freedom). */
    static double uniform(long[] counts) {
        long total = 0;
        for (long c : counts) {
            total += c;
        }
        double expected = (double) total / counts.length;
        double statistic = 0;
        for (long c : counts) {
            statistic += (c - expected) * (c - expected) / expected;
        }
        return statistic;
    }

    /** Independence of rows and columns of a contingency table ((r - 1)(c - 1) degrees of freedom). */
    static double independence(long[][] table) {
        int rows = table.length;
        int cols = table[0].length;
        double[] rowSums = new double[rows];
        double[] colSums = new double[cols];
        double total = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                rowSums[i] += table[i][j];
                colSums[j] += table[i][j];
                total += table[i][j];
            }
        }
        double statistic = 0;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double expected = rowSums[i] * colSums[j] / total;
                statistic += (table[i][j] - expected) * (table[i][j] - expected) / expected;
            }
        }
        return statistic;
    }
}
