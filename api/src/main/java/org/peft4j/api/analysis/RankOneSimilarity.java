package org.peft4j.api.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterSite;

/**
 * How alike the rank-1 components of adapters are (MLAE paper, Appendix A.4): each component's matrix
 * {@code b_i a_i^T} is flattened and the cosine similarity of every pair of components of one adapter is
 * averaged; a block's value averages the pairs of its adapters and the model's value averages the blocks.
 *
 * <p>As in A.4 the measure is taken on the component matrices {@code b_i a_i^T} themselves, so the
 * coefficients c_i (LoRA's alpha/r, MLAE's lambda_i) do not enter it, except that components with c_i = 0
 * (unused at inference, e.g. MLAE's fixed-masked experts) are left out. Components whose matrix is zero (B
 * still at its zero initialisation) have no direction and are left out too. The flattened matrices are
 * never built: {@code <b_i a_i^T, b_j a_j^T> = (a_i . a_j)(b_i . b_j)}, so the cosine is {@code cos(a_i,
 * a_j) * cos(b_i, b_j)}, exact and cheap at any size.
 */
public final class RankOneSimilarity {

    /** Key of the analysis entry in {@code metrics.json}. */
    public static final String KEY = "expert_similarity";

    private RankOneSimilarity() {}

    /** Mean signed and mean absolute pairwise cosine over {@code pairs} pairs (NaN when there are none). */
    public record Summary(double mean, double meanAbs, int pairs) {

        static Summary pooled(List<Summary> parts) {
            double sum = 0;
            double sumAbs = 0;
            int pairs = 0;
            for (Summary s : parts) {
                if (s.pairs > 0) {
                    sum += s.mean * s.pairs;
                    sumAbs += s.meanAbs * s.pairs;
                    pairs += s.pairs;
                }
            }
            return pairs == 0 ? new Summary(Double.NaN, Double.NaN, 0) : new Summary(sum / pairs, sumAbs / pairs, pairs);
        }
    }

    /**
     * The cosine similarity of the flattened matrices of components i and j, or NaN if either is zero or
     * unused at inference.
     */
    public static double cosine(RankOneFactors f, int i, int j) {
        if (!used(f, i) || !used(f, j)) {
            return Double.NaN;
        }
        double a = cos(f.a(), f.in(), i, j);
        double b = cos(f.b(), f.out(), i, j);
        return a * b;
    }

    /** The {@code r x r} matrix of {@link #cosine} (NaN rows and columns for left-out components). */
    public static double[][] matrix(RankOneFactors f) {
        double[][] m = new double[f.rank()][f.rank()];
        for (int i = 0; i < f.rank(); i++) {
            for (int j = 0; j < f.rank(); j++) {
                m[i][j] = cosine(f, i, j);
            }
        }
        return m;
    }

    /** The mean over pairs i &lt; j of components that are used and non-zero. */
    public static Summary pairwise(RankOneFactors f) {
        double sum = 0;
        double sumAbs = 0;
        int pairs = 0;
        for (int i = 0; i < f.rank(); i++) {
            for (int j = i + 1; j < f.rank(); j++) {
                double c = cosine(f, i, j);
                if (!Double.isNaN(c)) {
                    sum += c;
                    sumAbs += Math.abs(c);
                    pairs++;
                }
            }
        }
        return pairs == 0 ? new Summary(Double.NaN, Double.NaN, 0) : new Summary(sum / pairs, sumAbs / pairs, pairs);
    }

    /**
     * The measure over every adapter of the model that implements {@link RankOneComponents}, as a map for
     * {@code metrics.json}: {@code {expert_similarity: {model, model_abs, pairs, blocks: {depth: mean},
     * sites: {"<site id>/<adapter>": mean}}}}. Blocks are site depths; {@code model} is the mean over blocks
     * (A.4: "average the similarity values within all 12 blocks"). Empty when the model has no such adapter
     * or no pair of components has a direction yet.
     */
    public static Map<String, Object> analyse(AdaptableModel model) {
        Map<String, Double> sites = new LinkedHashMap<>();
        Map<Integer, List<Summary>> byBlock = new TreeMap<>();
        for (AdapterSite site : model.sites()) {
            for (Adapter adapter : site.adapters()) {
                if (adapter instanceof RankOneComponents components) {
                    Summary s = pairwise(components.rankOneFactors());
                    if (s.pairs() > 0) {
                        sites.put(site.id() + "/" + adapter.name(), s.mean());
                        byBlock.computeIfAbsent(site.depth(), d -> new ArrayList<>()).add(s);
                    }
                }
            }
        }
        if (byBlock.isEmpty()) {
            return Map.of();
        }
        Map<String, Double> blocks = new LinkedHashMap<>();
        double sum = 0;
        double sumAbs = 0;
        int pairs = 0;
        for (Map.Entry<Integer, List<Summary>> e : byBlock.entrySet()) {
            Summary block = Summary.pooled(e.getValue());
            blocks.put(String.valueOf(e.getKey()), block.mean());
            sum += block.mean();
            sumAbs += block.meanAbs();
            pairs += block.pairs();
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", sum / byBlock.size());
        result.put("model_abs", sumAbs / byBlock.size());
        result.put("pairs", pairs);
        result.put("blocks", blocks);
        result.put("sites", sites);
        return Map.of(KEY, result);
    }

    private static boolean used(RankOneFactors f, int i) {
        return f.coefficients()[i] != 0f && norm(f.a(), f.in(), i) > 0 && norm(f.b(), f.out(), i) > 0;
    }

    private static double cos(float[] rows, int width, int i, int j) {
        double dot = 0;
        for (int k = 0; k < width; k++) {
            dot += (double) rows[i * width + k] * rows[j * width + k];
        }
        return dot / (norm(rows, width, i) * norm(rows, width, j));
    }

    private static double norm(float[] rows, int width, int i) {
        double s = 0;
        for (int k = 0; k < width; k++) {
            double v = rows[i * width + k];
            s += v * v;
        }
        return Math.sqrt(s);
    }
}
