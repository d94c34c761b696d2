package org.peft4j.methods.mosa;

import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.peft4j.api.MethodContext;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.site.Placement;

/**
 * MoSA's options (keys as in reference.conf), read and checked eagerly. {@code scale}, {@code dropout}, {@code
 * activation} and {@code layernorm} default to {@code auto}: the value the authors' code uses for the chosen style.
 *
 * @param layerNorm {@code in}, {@code none}, or {@code auto} (the style's, decided per site: no extra LayerNorm where
 *     the adapter reads a tensor the block has already normed)
 */
public record MosaSettings(Style style, Optional<Placement> placement, int bottleneck, float scale, float dropout, Bottleneck.Act activation,
        String layerNorm, float layerNormEps, boolean splitBiases, List<Integer> layers, MixtureSettings mixture) {

    /** The word that stands for "the style's own value". */
    public static final String AUTO = "auto";

    /** Where the adapter sits and what the authors' code gives it. */
    public enum Style {
        /** Parallel to the FFN, reading its input, with a LayerNorm of its own; s = 0.1, dropout 0.1, GELU. */
        ADAPTFORMER(0.1f, 0.1f, Bottleneck.Act.GELU, true),
        /** After the FFN, on its output, with a LayerNorm of its own; no scale, no dropout, ReLU. */
        PFEIFFER(1f, 0f, Bottleneck.Act.RELU, true),
        /** After the attention and after the FFN, on the residual stream; no LayerNorm, scale or dropout; SiLU. */
        HOULSBY(1f, 0f, Bottleneck.Act.SILU, false);

        final float scale;
        final float dropout;
        final Bottleneck.Act activation;
        final boolean layerNorm;

        Style(float scale, float dropout, Bottleneck.Act activation, boolean layerNorm) {
            this.scale = scale;
            this.dropout = dropout;
            this.activation = activation;
            this.layerNorm = layerNorm;
        }

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public MosaSettings {
        layers = List.copyOf(layers);
    }

    public static MosaSettings from(MethodContext ctx) {
        Style style = Style.valueOf(ctx.oneOf("style", "adaptformer", "pfeiffer", "houlsby").toUpperCase(Locale.ROOT));
        String where = ctx.oneOf("placement", AUTO, Placement.AFTER_DROP_PATH.configName(), Placement.INSIDE.configName(),
                Placement.MLP.configName());
        Optional<Placement> placement = where.equals(AUTO) ? Optional.empty()
                : Optional.of(Placement.valueOf(where.toUpperCase(Locale.ROOT).replace('-', '_')));
        if (style != Style.ADAPTFORMER && placement.isPresent()) {
            throw ctx.invalid("placement", "places the adaptformer style only; " + style.configName()
                    + " sits where the authors' code puts it (leave placement = auto)");
        }
        int bottleneck = ctx.positiveInt("bottleneck");
        float scale = isAuto(ctx, "scale") ? style.scale : ctx.finiteNonZero("scale");
        float dropout = isAuto(ctx, "dropout") ? style.dropout : (float) ctx.probability("dropout", 0.99);
        Bottleneck.Act activation = isAuto(ctx, "activation") ? style.activation
                : Bottleneck.Act.of(ctx.oneOf("activation", Bottleneck.Act.names()));
        String layerNorm = ctx.oneOf("layernorm", AUTO, "in", "none");
        double eps = ctx.settings().getDouble("layernorm-eps");
        if (!(eps > 0) || eps >= 1) {
            throw ctx.invalid("layernorm-eps", "must be in (0, 1), got " + eps);
        }
        boolean splitBiases = ctx.oneOf("biases", "copies", "split").equals("split");
        Split split = Split.of(ctx.oneOf("split", "hierarchical", "sparse-down", "all-sparse", "dense"));
        MixtureSettings mixture = MixtureSettings.from(ctx, split);
        if (splitBiases && mixture.experts() > bottleneck && split.down()) {
            throw ctx.invalid("biases", "= split divides the down bias (" + bottleneck + " entries) among " + mixture.experts()
                    + " experts: lower experts, raise bottleneck or use biases = copies");
        }
        return new MosaSettings(style, placement, bottleneck, scale, dropout, activation, layerNorm, (float) eps, splitBiases,
                ctx.blockIndices("layers"), mixture);
    }

    /**
     * The adapter's structure on a site of {@code features} width.
     *
     * @param normedInput whether what it reads is already the output of the block's norm (then {@code auto} adds
     *     no LayerNorm of its own, as the code's Swin adapter)
     */
    public MosaAdapter.Structure structure(int features, Bottleneck.Reads reads, boolean normedInput) {
        boolean norm = switch (layerNorm) {
            case "in" -> true;
            case "none" -> false;
            default -> style.layerNorm && !normedInput;
        };
        return new MosaAdapter.Structure(features, bottleneck, reads, norm, layerNormEps, activation, scale, dropout);
    }

    public MosaAdapter.Layout layout() {
        return new MosaAdapter.Layout(mixture.experts(), mixture.split(), splitBiases);
    }

    /** The adapter options in force, for the run's metrics. */
    public Map<String, Object> describe() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("style", style.configName());
        out.put("placement", placement.map(Placement::configName).orElse(AUTO));
        out.put("bottleneck", bottleneck);
        out.put("scale", Double.parseDouble(Float.toString(scale)));
        out.put("dropout", Double.parseDouble(Float.toString(dropout)));
        out.put("activation", activation.configName());
        out.put("layernorm", layerNorm);
        out.put("biases", splitBiases ? "split" : "copies");
        return out;
    }

    private static boolean isAuto(MethodContext ctx, String key) {
        ConfigValue value = ctx.settings().getValue(key);
        return value.valueType() == ConfigValueType.STRING && AUTO.equals(String.valueOf(value.unwrapped()).trim());
    }
}
