package org.peft4j.methods.mosa;

import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.peft4j.api.MethodContext;
import org.peft4j.methods.mosa.ConsistencyLoss.Align;
import org.peft4j.methods.mosa.ConsistencyLoss.AlignScaling;

/**
 * The options MoSA and MoSL share (keys as in reference.conf), read and checked eagerly, with the preset resolved.
 *
 * <p><b>Presets.</b> Where the paper and the authors' code differ, an option defaults to the word {@code preset}
 * and takes its value from {@code preset = paper} (the default) or {@code preset = reference-code}; a value the user
 * writes always wins. Where each value came from is kept ({@link #sources}) and reported with the run's analysis.
 *
 * @param experts N, experts per split tensor (1 with {@code split = dense})
 * @param sources option -> where its value came from
 */
public record MixtureSettings(Preset preset, int experts, Split split, Choice choice, Merge merge, double alpha, double beta,
        boolean stopGradient, Align align, AlignScaling alignScaling, Map<String, String> sources) {

    /** The word that stands for "take it from the preset". */
    public static final String FROM_PRESET = "preset";

    /** The two readings of MoSA. */
    public enum Preset {
        /**
         * The paper: N = 2 (its best, Table 9), no stop-gradient in the KL (Eq. 6), alignment of the first L/2 blocks
         * (Sec. 3.3, Table 8) summed with weight beta.
         */
        PAPER(2, false, Align.SHALLOW, AlignScaling.SUM),
        /**
         * The authors' code: N = 4 (its VTAB scripts), stop-gradient on each KL target, no alignment (its scripts
         * except Cars), the alignment MSE scaled by 0.01 / L when it is on.
         */
        REFERENCE_CODE(4, true, Align.NONE, AlignScaling.CODE);

        final int experts;
        final boolean stopGradient;
        final Align align;
        final AlignScaling alignScaling;

        Preset(int experts, boolean stopGradient, Align align, AlignScaling alignScaling) {
            this.experts = experts;
            this.stopGradient = stopGradient;
            this.align = align;
            this.alignScaling = alignScaling;
        }

        public String configName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    public MixtureSettings {
        sources = Map.copyOf(sources);
    }

    /** Reads the shared options; {@code split} is read by the caller (its allowed values differ per method). */
    public static MixtureSettings from(MethodContext ctx, Split split) {
        Preset preset = Preset.valueOf(ctx.oneOf("preset", "paper", "reference-code").toUpperCase(Locale.ROOT).replace('-', '_'));
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("preset", preset.configName());
        String presetSource = "preset " + preset.configName();

        Optional<Integer> expertsSet = explicit(ctx, "experts", v -> {
            try {
                return Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw ctx.invalid("experts", "must be a whole number >= 1 or '" + FROM_PRESET + "', got '" + v + "'");
            }
        });
        int experts;
        if (split == Split.DENSE) {
            if (expertsSet.isPresent() && expertsSet.get() != 1) {
                throw ctx.invalid("experts", "is " + expertsSet.get() + ", but split = dense trains one dense adapter: set "
                        + "experts = 1 (or leave it at '" + FROM_PRESET + "'), or choose a split strategy");
            }
            experts = 1;
            sources.put("experts", "split = dense");
        } else {
            experts = expertsSet.orElse(preset.experts);
            if (experts < 1) {
                throw ctx.invalid("experts", "must be >= 1, got " + experts);
            }
            sources.put("experts", expertsSet.isPresent() ? "method.experts" : presetSource);
        }

        Optional<Boolean> stopSet = explicit(ctx, "stop-gradient", v -> switch (v.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ctx.invalid("stop-gradient", "must be true, false or '" + FROM_PRESET + "', got '" + v + "'");
        });
        Optional<Align> alignSet = explicit(ctx, "align", v -> parse(ctx, "align", v, Align::of, "shallow | deep | all | none"));
        Optional<AlignScaling> scalingSet = explicit(ctx, "align-scaling",
                v -> parse(ctx, "align-scaling", v, AlignScaling::of, "sum | code"));
        sources.put("stop-gradient", stopSet.isPresent() ? "method.stop-gradient" : presetSource);
        sources.put("align", alignSet.isPresent() ? "method.align" : presetSource);
        sources.put("align-scaling", scalingSet.isPresent() ? "method.align-scaling" : presetSource);

        double alpha = nonNegative(ctx, "alpha");
        double beta = nonNegative(ctx, "beta");
        Choice choice = Choice.of(ctx.oneOf("choice", "per-pass", "per-step"));
        Merge merge = Merge.valueOf(ctx.oneOf("merge", "expectation", "jigsaw").toUpperCase(Locale.ROOT));
        return new MixtureSettings(preset, experts, split, choice, merge, alpha, beta, stopSet.orElse(preset.stopGradient),
                alignSet.orElse(preset.align), scalingSet.orElse(preset.alignScaling), sources);
    }

    /** The loss these settings describe. */
    ConsistencyLoss loss() {
        return new ConsistencyLoss(alpha, beta, stopGradient, align, alignScaling);
    }

    /** The options in force, with their sources, for the run's metrics. */
    public Map<String, Object> describe() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("preset", preset.configName());
        out.put("experts", experts);
        out.put("split", split.configName());
        out.put("choice", choice.configName());
        out.put("merge", merge.configName());
        out.put("alpha", alpha);
        out.put("beta", beta);
        out.put("stop_gradient", stopGradient);
        out.put("align", align.configName());
        out.put("align_scaling", alignScaling.configName());
        out.put("sources", sources);
        return out;
    }

    /** The user's value of {@code key}, unless it is the word {@code preset}. */
    private static <T> Optional<T> explicit(MethodContext ctx, String key, Function<String, T> parse) {
        ConfigValue value = ctx.settings().getValue(key);
        String text = String.valueOf(value.unwrapped());
        if (value.valueType() == ConfigValueType.STRING && FROM_PRESET.equals(text.trim())) {
            return Optional.empty();
        }
        return Optional.of(parse.apply(text));
    }

    private static <T> T parse(MethodContext ctx, String key, String value, Function<String, T> parse, String allowed) {
        try {
            return parse.apply(value.trim());
        } catch (IllegalArgumentException e) {
            throw ctx.invalid(key, "must be one of " + allowed + " or '" + FROM_PRESET + "', got '" + value + "'");
        }
    }

    private static double nonNegative(MethodContext ctx, String key) {
        double value = ctx.settings().getDouble(key);
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw ctx.invalid(key, "must be a finite number >= 0, got " + value);
        }
        return value;
    }
}
