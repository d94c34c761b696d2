package org.peft4j.api.site;

import java.util.Arrays;
import java.util.Locale;
import org.peft4j.api.MethodContext;

/**
 * Where a bottleneck adapter sits on a block's residual branch {@code x + dp(ls(f(x)))} (the {@code placement}
 * option of {@code adapter}, {@code adaptformer} and {@code mosa}). With neither layer scale nor drop path active, as in the
 * ViT-B setups of the papers, {@link #INSIDE} and {@link #AFTER_DROP_PATH} compute the same.
 */
public enum Placement {
    /** On the branch output {@code f(x)}, before layer scale and drop path (the ATTENTION / FFN site). */
    INSIDE,
    /**
     * On what the branch adds to the stream, after layer scale and drop path (the residual site): AdaptFormer's
     * code ({@code residual + drop_path(mlp(...)) + s * adapter(residual)}) and NOAH's adapter ({@code x +
     * adapter(drop_path(mlp(...)))}).
     */
    AFTER_DROP_PATH,
    /** On the residual stream after the add (the residual site, reading input + output): MoSA's Houlsby. */
    AFTER_ADD,
    /** Inside the MLP, on its normed input (the MLP site): MoSA's Swin adapters. FFN branch only. */
    MLP;

    /** The config name, e.g. {@code after-drop-path}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Reads {@code key}, allowing only {@code allowed}. */
    public static Placement from(MethodContext context, String key, Placement... allowed) {
        String value = context.oneOf(key, Arrays.stream(allowed).map(Placement::configName).toArray(String[]::new));
        return valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** The kind of site this placement uses on a branch of kind {@code branch} (ATTENTION or FFN). */
    public SiteKind siteKind(SiteKind branch) {
        boolean attention = branch == SiteKind.ATTENTION;
        return switch (this) {
            case INSIDE -> branch;
            case AFTER_DROP_PATH, AFTER_ADD -> attention ? SiteKind.ATTENTION_RESIDUAL : SiteKind.FFN_RESIDUAL;
            case MLP -> {
                if (attention) {
                    throw new IllegalArgumentException("the mlp placement exists for FFN branches only");
                }
                yield SiteKind.MLP;
            }
        };
    }
}
