package org.peft4j.methods.mlae;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The paper's per-dataset optimum on VTAB-1k (MLAE, Appendix A.2, Table 10): the expert-level dropout
 * probability p and the initial value of the coefficients lambda, searched over p in {0, 0.1, 0.3, 0.5,
 * 0.7, 0.9} and lambda in {0.125, 0.25, 0.5, 1, 2, 4} with uniform stochastic masking, rank 8 on the qkv of
 * ViT-B/16.
 *
 * <p>Datasets are named as the VTAB-1k folders of the VPT/NOAH layout ({@code cifar}, {@code
 * oxford_flowers102}, {@code smallnorb_azi}, ...); common other spellings ({@code cifar100}, {@code
 * Flowers102}, {@code vtab-1k/sNORB-Azim}, {@code kitti_dist}) are accepted.
 */
public final class VtabPresets {

    /** One row of Table 10. */
    public record Preset(String dataset, double dropout, double lambdaInit) {}

    private static final Map<String, Preset> PRESETS = new LinkedHashMap<>();
    private static final Map<String, String> ALIASES = new LinkedHashMap<>();

    static {
        // Table 10, in its column order: Natural, Specialized, Structured.
        add("cifar", 0.7, 2, "cifar100", "cifar_100");
        add("caltech101", 0.1, 0.5, "caltech");
        add("dtd", 0.7, 0.25);
        add("oxford_flowers102", 0.7, 1, "flowers102", "flowers", "oxford_flowers", "flower102");
        add("oxford_iiit_pet", 0.7, 2, "pets", "pet", "oxford_pets", "oxford_pet", "oxford_iiit_pets");
        add("svhn", 0.5, 4, "nhas"); // Table 10 prints "NHAS": the SVHN column
        add("sun397", 0.7, 4, "sun");
        add("patch_camelyon", 0.7, 1, "camelyon", "pcam");
        add("eurosat", 0.5, 4);
        add("resisc45", 0.5, 2, "resisc");
        add("diabetic_retinopathy", 0.7, 0.25, "retinopathy");
        add("clevr_count", 0, 0.125, "clevr_counting");
        add("clevr_dist", 0, 0.125, "clevr_distance");
        add("dmlab", 0.5, 2);
        add("kitti", 0.5, 1, "kitti_dist", "kitti_distance");
        add("dsprites_loc", 0.5, 1, "dspr_loc", "dsprites_location");
        add("dsprites_ori", 0.7, 4, "dspr_ori", "dsprites_orientation");
        add("smallnorb_azi", 0, 1, "smallnorb_azim", "snorb_azim", "snorb_azi", "smallnorb_azimuth");
        add("smallnorb_ele", 0, 0.25, "snorb_ele", "smallnorb_elevation", "snorb_elevation");
    }

    private VtabPresets() {}

    private static void add(String name, double dropout, double lambdaInit, String... aliases) {
        PRESETS.put(name, new Preset(name, dropout, lambdaInit));
        ALIASES.put(name, name);
        for (String alias : aliases) {
            ALIASES.put(alias, name);
        }
    }

    /** The preset for a dataset name (any accepted spelling), if Table 10 has one. */
    public static Optional<Preset> find(String dataset) {
        if (dataset == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(ALIASES.get(normalise(dataset))).map(PRESETS::get);
    }

    /** The 19 canonical names, in Table 10's order. */
    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

    /**
     * Lower case, last path segment, separators as underscores, without a {@code vtab}/{@code vtab_1k} prefix
     * or a {@code _1k} suffix: {@code "VTAB-1k/sNORB-Azim"} becomes {@code snorb_azim}.
     */
    static String normalise(String dataset) {
        String name = dataset.trim().toLowerCase(Locale.ROOT);
        name = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
        name = name.replaceAll("[-\\s.]+", "_");
        name = name.replaceFirst("^vtab_?(1k_)?", "");
        return name.replaceFirst("_1k$", "");
    }
}
