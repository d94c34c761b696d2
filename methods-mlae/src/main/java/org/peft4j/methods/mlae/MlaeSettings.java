package org.peft4j.methods.mlae;

import com.typesafe.config.Config;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Random;
import org.peft4j.api.MethodContext;
import org.peft4j.api.nn.LowRankInit;
import org.peft4j.methods.mlae.VtabPresets.Preset;

/**
 * MLAE's options (keys as in reference.conf), read and checked eagerly, with the preset resolved.
 *
 * <p><b>Presets.</b> {@code dropout} and {@code lambda-init} default to the word {@code preset}: take the
 * value from the preset in force, or, without one, the paper's best mean over VTAB-1k (p = 0.5, Table 9;
 * lambda = 1, Table 8). A number the user writes always wins over the preset, so a preset never overrides
 * an explicit value; where each value came from is recorded ({@link #dropoutSource}, {@link #lambdaSource})
 * and reported in the run's analysis. {@code preset = auto} looks the run's dataset up in Table 10 and uses
 * no preset when it is not there; {@code none} uses none; a dataset name uses that row (unknown = error).
 *
 * @param dropout p for uniform stochastic masking (resolved)
 * @param lambdaInit initial lambda (resolved; 1 when not adaptive)
 * @param preset the Table 10 row in force, if any
 * @param presetNote how {@code preset} was resolved, for the log and metrics
 * @param masksPerSite {@code mask-scope = site}: every adapted site draws its own mask; {@code block}: a block's
 *     sites share one
 * @param frozenEval whether the frozen backbone's drop path runs as at evaluation while training
 */
public record MlaeSettings(
        List<String> targets,
        List<Integer> layers,
        List<String> exclude,
        int rank,
        LowRankInit init,
        boolean adaptive,
        double lambdaInit,
        String lambdaSource,
        Masking masking,
        double dropout,
        String dropoutSource,
        LayerPattern dropoutPattern,
        List<Double> dropoutPerLayer,
        LayerPattern expertsPattern,
        List<Integer> expertsPerLayer,
        Optional<Preset> preset,
        String presetNote,
        double inputDropout,
        boolean masksPerSite,
        boolean frozenEval,
        long seed) {

    /** The word that stands for "take it from the preset" in {@code dropout} and {@code lambda-init}. */
    public static final String FROM_PRESET = "preset";

    /** p without a preset: the best mean over VTAB-1k (Table 9). */
    public static final double DEFAULT_DROPOUT = 0.5;

    /** lambda without a preset: the best mean over VTAB-1k (Table 8) and the value Section 3.3 describes. */
    public static final double DEFAULT_LAMBDA = 1.0;

    public MlaeSettings {
        targets = List.copyOf(targets);
        layers = List.copyOf(layers);
        exclude = List.copyOf(exclude);
        dropoutPerLayer = List.copyOf(dropoutPerLayer);
        expertsPerLayer = List.copyOf(expertsPerLayer);
    }

    public static MlaeSettings from(MethodContext ctx) {
        Config c = ctx.settings();
        int rank = ctx.positiveInt("rank");
        LowRankInit init = LowRankInit.from(ctx, "init");
        boolean adaptive = c.getBoolean("adaptive");
        Masking masking = Masking.parse(c.getString("masking"));
        if (masking == null) {
            throw ctx.invalid("masking", "must be one of stochastic, fixed, mixed, none, got '"
                    + c.getString("masking") + "'");
        }
        LayerPattern dropoutPattern = pattern(ctx, "dropout-pattern");
        LayerPattern expertsPattern = pattern(ctx, "experts-pattern");
        List<Double> dropoutPerLayer = c.getDoubleList("dropout-per-layer");
        for (int l = 0; l < dropoutPerLayer.size(); l++) {
            checkDropout(ctx, "dropout-per-layer", dropoutPerLayer.get(l), " (block " + l + ")");
        }
        List<Integer> expertsPerLayer = ctx.intList("experts-per-layer");
        for (int l = 0; l < expertsPerLayer.size(); l++) {
            if (expertsPerLayer.get(l) < 0) {
                throw ctx.invalid("experts-per-layer", "counts must be >= 0, block " + l + " has "
                        + expertsPerLayer.get(l));
            }
        }
        if (!expertsPerLayer.isEmpty() && expertsPerLayer.stream().allMatch(n -> n == 0)) {
            throw ctx.invalid("experts-per-layer", "keeps no expert at all");
        }
        OptionalDouble dropoutSet = ctx.numberOrWord("dropout", FROM_PRESET);
        if (dropoutSet.isPresent()) {
            checkDropout(ctx, "dropout", dropoutSet.getAsDouble(), "");
        }
        OptionalDouble lambdaSet = ctx.numberOrWord("lambda-init", FROM_PRESET);
        if (lambdaSet.isPresent()) {
            double v = lambdaSet.getAsDouble();
            if (!(v > 0) || Double.isInfinite(v)) {
                // lambda = 0 would keep every expert at zero with zero gradient forever
                throw ctx.invalid("lambda-init", "must be a finite number > 0 (the paper searches 0.125 .. 4), got " + v);
            }
        }
        double inputDropout = c.getDouble("input-dropout");
        checkDropout(ctx, "input-dropout", inputDropout, "");
        boolean masksPerSite = ctx.oneOf("mask-scope", "site", "block").equals("site");

        checkEffective(ctx, masking, dropoutSet, dropoutPattern, dropoutPerLayer, expertsPerLayer, adaptive, lambdaSet);

        String presetSetting = c.getString("preset").trim();
        Optional<Preset> preset;
        String presetNote;
        switch (presetSetting) {
            case "none" -> {
                preset = Optional.empty();
                presetNote = "none";
            }
            case "auto" -> {
                preset = VtabPresets.find(ctx.dataset());
                presetNote = preset.map(p -> "auto: dataset '" + ctx.dataset() + "' -> Table 10 row " + p.dataset())
                        .orElse("auto: dataset '" + ctx.dataset() + "' is not in Table 10, no preset");
            }
            default -> {
                preset = VtabPresets.find(presetSetting);
                if (preset.isEmpty()) {
                    throw ctx.invalid("preset", "unknown preset '" + presetSetting + "': use auto, none or a VTAB-1k "
                            + "dataset of Table 10 " + VtabPresets.names());
                }
                presetNote = "Table 10 row " + preset.get().dataset();
            }
        }

        double dropout;
        String dropoutSource;
        if (dropoutSet.isPresent()) {
            dropout = dropoutSet.getAsDouble();
            dropoutSource = "method.dropout";
        } else if (preset.isPresent()) {
            dropout = preset.get().dropout();
            dropoutSource = "preset " + preset.get().dataset() + " (Table 10)";
        } else {
            dropout = DEFAULT_DROPOUT;
            dropoutSource = "default (best VTAB-1k mean, Table 9)";
        }
        double lambdaInit;
        String lambdaSource;
        if (!adaptive) {
            lambdaInit = 1.0;
            lambdaSource = "fixed at 1 (adaptive = false)";
        } else if (lambdaSet.isPresent()) {
            lambdaInit = lambdaSet.getAsDouble();
            lambdaSource = "method.lambda-init";
        } else if (preset.isPresent()) {
            lambdaInit = preset.get().lambdaInit();
            lambdaSource = "preset " + preset.get().dataset() + " (Table 10)";
        } else {
            lambdaInit = DEFAULT_LAMBDA;
            lambdaSource = "default (best VTAB-1k mean, Table 8)";
        }
        return new MlaeSettings(c.getStringList("targets"), ctx.blockIndices("layers"), c.getStringList("exclude"), rank,
                init, adaptive, lambdaInit, lambdaSource, masking, dropout, dropoutSource, dropoutPattern,
                dropoutPerLayer, expertsPattern, expertsPerLayer, preset, presetNote, inputDropout, masksPerSite,
                ctx.bool("frozen-eval"), ctx.seed());
    }

    /** Whether the single {@code dropout} value is what the masks use. */
    public boolean usesUniformDropout() {
        return masking.stochastic() && dropoutPerLayer.isEmpty() && dropoutPattern == LayerPattern.UNIFORM;
    }

    /**
     * Experts kept per block of a model with {@code depth} blocks: {@code rank} everywhere unless masking is
     * fixed or mixed, then the explicit list or the pattern.
     */
    public int[] expertsPerBlock(int depth, MethodContext ctx) {
        if (!masking.fixed()) {
            int[] counts = new int[depth];
            Arrays.fill(counts, rank);
            return counts;
        }
        if (!expertsPerLayer.isEmpty()) {
            requireLength(ctx, "experts-per-layer", expertsPerLayer.size(), depth);
            return expertsPerLayer.stream().mapToInt(Integer::intValue).toArray();
        }
        return expertsPattern.expertCounts(depth, rank, new Random(seed * 31 + 1));
    }

    /** Dropout probability per block of a model with {@code depth} blocks (all 0 without stochastic masking). */
    public double[] dropoutPerBlock(int depth, MethodContext ctx) {
        if (!masking.stochastic()) {
            return new double[depth];
        }
        if (!dropoutPerLayer.isEmpty()) {
            requireLength(ctx, "dropout-per-layer", dropoutPerLayer.size(), depth);
            return dropoutPerLayer.stream().mapToDouble(Double::doubleValue).toArray();
        }
        return dropoutPattern.dropouts(depth, dropout, new Random(seed * 31 + 2));
    }

    private static void requireLength(MethodContext ctx, String key, int size, int depth) {
        if (size != depth) {
            throw ctx.invalid(key, "has " + size + " entries, but the model has " + depth + " blocks: give one per block");
        }
    }

    /** Refuses settings that would be silently ignored by the chosen masking. */
    private static void checkEffective(MethodContext ctx, Masking masking, OptionalDouble dropoutSet,
            LayerPattern dropoutPattern, List<Double> dropoutPerLayer, List<Integer> expertsPerLayer, boolean adaptive,
            OptionalDouble lambdaSet) {
        if (!masking.stochastic()) {
            String why = "has no effect with masking = " + masking.configName() + " (only stochastic and mixed drop experts)";
            if (dropoutSet.isPresent()) {
                throw ctx.invalid("dropout", why);
            }
            if (!dropoutPerLayer.isEmpty()) {
                throw ctx.invalid("dropout-per-layer", why);
            }
            if (dropoutPattern != LayerPattern.UNIFORM) {
                throw ctx.invalid("dropout-pattern", why);
            }
        }
        if (!masking.fixed() && !expertsPerLayer.isEmpty()) {
            throw ctx.invalid("experts-per-layer", "has no effect with masking = " + masking.configName()
                    + " (only fixed and mixed keep per-block counts)");
        }
        if (!dropoutPerLayer.isEmpty() && dropoutPattern != LayerPattern.UNIFORM) {
            throw ctx.invalid("dropout-per-layer", "and dropout-pattern = " + dropoutPattern.configName()
                    + " both set per-block probabilities: keep one");
        }
        if (dropoutSet.isPresent() && (!dropoutPerLayer.isEmpty() || dropoutPattern != LayerPattern.UNIFORM)) {
            throw ctx.invalid("dropout", "is the probability of the uniform pattern; per-block probabilities come from "
                    + (dropoutPerLayer.isEmpty() ? "dropout-pattern = " + dropoutPattern.configName() : "dropout-per-layer")
                    + ": remove one of them");
        }
        if (!adaptive && lambdaSet.isPresent()) {
            throw ctx.invalid("lambda-init", "has no effect with adaptive = false (the coefficients are fixed at 1)");
        }
    }

    private static LayerPattern pattern(MethodContext ctx, String key) {
        String name = ctx.settings().getString(key);
        LayerPattern p = LayerPattern.parse(name);
        if (p == null) {
            throw ctx.invalid(key, "must be one of uniform, incremental, decremental, hourglass, protruding, random, got '"
                    + name + "'");
        }
        return p;
    }

    private static void checkDropout(MethodContext ctx, String key, double p, String where) {
        if (!(p >= 0 && p < 1)) {
            throw ctx.invalid(key, "must be in [0, 1), got " + p + where);
        }
    }
}
