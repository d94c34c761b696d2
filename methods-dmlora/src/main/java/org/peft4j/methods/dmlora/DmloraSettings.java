package org.peft4j.methods.dmlora;

import com.typesafe.config.Config;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import org.peft4j.api.MethodContext;
import org.peft4j.api.nn.LowRankInit;

/**
 * DMLoRA's options (keys as in reference.conf), read and checked eagerly, with the pruning preset resolved.
 *
 * <p>{@code branches} and {@code drop-every} default to the word {@code preset}: take the value from the preset
 * in force ({@link PruningPreset}), or, with {@code preset = none}, n 8 and k 100 (Table 7's S1). A number the
 * user writes always wins; where each value came from is recorded for the run's notes.
 *
 * @param targets site patterns; empty = the paper's placement for the backbone ({@link DmloraTuner})
 * @param scale s of Eq. 1, and the start of the learned scales
 * @param branches initial n of each factor (before a scheme makes one factor a single branch)
 * @param dropEvery epochs k between halvings
 * @param sharedRoute one draw per step for every site (else one per site)
 * @param scaleStage whether the 2-stage learning scalar adds its stage
 */
public record DmloraSettings(
        List<String> targets,
        List<Integer> layers,
        List<String> exclude,
        int rank,
        LowRankInit init,
        boolean identicalInit,
        float scale,
        int branches,
        String branchesSource,
        int dropEvery,
        String dropEverySource,
        Optional<PruningPreset> preset,
        String presetNote,
        int minBranches,
        boolean roundUp,
        Scheme scheme,
        boolean sharedRoute,
        boolean resetSurvivors,
        boolean scaleStage,
        int scaleEpochs,
        double scaleLr,
        double scaleWeightDecay,
        double scaleWarmupEpochs,
        boolean perRowScale,
        boolean scaleTrainHead,
        boolean scaleRoutedRandomly,
        long seed) {

    /** The word that stands for "take it from the preset" in {@code branches} and {@code drop-every}. */
    public static final String FROM_PRESET = "preset";

    public DmloraSettings {
        targets = List.copyOf(targets);
        layers = List.copyOf(layers);
        exclude = List.copyOf(exclude);
    }

    public static DmloraSettings from(MethodContext ctx) {
        Config c = ctx.settings();
        int rank = ctx.positiveInt("rank");
        LowRankInit init = LowRankInit.from(ctx, "init");
        boolean identical = ctx.oneOf("branch-init", "independent", "identical").equals("identical");
        float scale = ctx.finiteNonZero("scale");
        Scheme scheme = Scheme.parse(c.getString("scheme"));
        if (scheme == null) {
            throw ctx.invalid("scheme", "must be one of A, B, C, D, E (Table 3), got '" + c.getString("scheme") + "'");
        }
        PruningPreset.Resolution resolution = PruningPreset.resolve(c.getString("preset"), ctx.dataset());
        if (resolution == null) {
            throw ctx.invalid("preset", "must be one of auto, slow, fast, none, got '" + c.getString("preset") + "'");
        }
        OptionalDouble branchesSet = ctx.numberOrWord("branches", FROM_PRESET);
        OptionalDouble dropEverySet = ctx.numberOrWord("drop-every", FROM_PRESET);
        int branches = resolve(ctx, "branches", branchesSet, resolution.preset().map(PruningPreset::branches));
        int dropEvery = resolve(ctx, "drop-every", dropEverySet, resolution.preset().map(PruningPreset::dropEvery));
        int minBranches = ctx.positiveInt("min-branches");
        if (minBranches > branches) {
            throw ctx.invalid("min-branches", "must be at most branches (" + branches + "), got " + minBranches);
        }
        if (scheme == Scheme.A) {
            String why = "has no effect with scheme = A (the branches are never reduced)";
            if (dropEverySet.isPresent()) {
                throw ctx.invalid("drop-every", why);
            }
            if (minBranches != 1) {
                throw ctx.invalid("min-branches", why);
            }
        }
        boolean roundUp = ctx.oneOf("odd-halving", "up", "down").equals("up");
        boolean sharedRoute = ctx.oneOf("routing", "site", "step").equals("step");
        boolean reset = ctx.oneOf("survivor-moments", "keep", "reset").equals("reset");

        boolean scaleStage = ctx.bool("scale-stage");
        int scaleEpochs = ctx.positiveInt("scale-epochs");
        double scaleLr = c.getDouble("scale-lr");
        if (!(scaleLr > 0) || Double.isInfinite(scaleLr)) {
            throw ctx.invalid("scale-lr", "must be a finite number > 0, got " + scaleLr);
        }
        double scaleDecay = c.getDouble("scale-weight-decay");
        if (!(scaleDecay >= 0) || Double.isInfinite(scaleDecay)) {
            throw ctx.invalid("scale-weight-decay", "must be a finite number >= 0, got " + scaleDecay);
        }
        double scaleWarmup = c.getDouble("scale-warmup-epochs");
        if (!(scaleWarmup >= 0) || scaleWarmup > scaleEpochs) {
            throw ctx.invalid("scale-warmup-epochs", "must be in [0, scale-epochs = " + scaleEpochs + "], got " + scaleWarmup);
        }
        boolean perRow = ctx.oneOf("scale-shape", "scalar", "vector").equals("vector");
        boolean trainHead = ctx.bool("scale-train-head");
        boolean randomInStage2 = ctx.oneOf("scale-routing", "averaged", "random").equals("random");

        return new DmloraSettings(c.getStringList("targets"), ctx.blockIndices("layers"), c.getStringList("exclude"), rank,
                init, identical, scale, branches, source("branches", branchesSet, resolution), dropEvery,
                source("drop-every", dropEverySet, resolution), resolution.preset(), resolution.note(), minBranches,
                roundUp, scheme, sharedRoute, reset, scaleStage, scaleEpochs, scaleLr, scaleDecay, scaleWarmup, perRow,
                trainHead, randomInStage2, ctx.seed());
    }

    /** The scheduler of the down branches A_i. */
    public HalvingScheduler downScheduler() {
        return scheme.down(branches, dropEvery, minBranches, roundUp);
    }

    /** The scheduler of the up branches B_j. */
    public HalvingScheduler upScheduler() {
        return scheme.up(branches, dropEvery, minBranches, roundUp);
    }

    private static int resolve(MethodContext ctx, String key, OptionalDouble set, Optional<Integer> fromPreset) {
        if (set.isEmpty()) {
            return fromPreset.orElse(key.equals("branches") ? PruningPreset.SLOW.branches() : PruningPreset.SLOW.dropEvery());
        }
        double v = set.getAsDouble();
        if (v != Math.rint(v) || v < 1 || v > 1 << 20) {
            throw ctx.invalid(key, "must be a whole number >= 1 or '" + FROM_PRESET + "', got " + v);
        }
        return (int) v;
    }

    private static String source(String key, OptionalDouble set, PruningPreset.Resolution resolution) {
        if (set.isPresent()) {
            return "method." + key;
        }
        return resolution.preset().map(p -> "preset " + p.configName())
                .orElse("default (Table 7's S1: n 8, k 100)");
    }
}
