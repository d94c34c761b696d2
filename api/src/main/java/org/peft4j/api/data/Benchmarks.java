package org.peft4j.api.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The task lists of the field's two benchmarks, under the names of their folders in the VPT/NOAH layouts, with
 * the spellings other codebases use: VTAB-1k's 19 tasks in their three groups (Natural, Specialized, Structured)
 * and the five FGVC datasets. Methods key per-dataset presets on these, reports group columns by them.
 */
public final class Benchmarks {

    /** A VTAB-1k group. */
    public enum VtabGroup {
        NATURAL("Natural"), SPECIALIZED("Specialized"), STRUCTURED("Structured");

        private final String title;

        VtabGroup(String title) {
            this.title = title;
        }

        public String title() {
            return title;
        }
    }

    private static final Map<String, VtabGroup> VTAB = new LinkedHashMap<>();
    private static final List<String> FGVC = List.of("cub", "nabirds", "oxford_flowers", "stanford_dogs", "stanford_cars");
    private static final Map<String, String> ALIASES = new LinkedHashMap<>();

    static {
        vtab(VtabGroup.NATURAL, "cifar", "cifar100", "cifar_100");
        vtab(VtabGroup.NATURAL, "caltech101", "caltech");
        vtab(VtabGroup.NATURAL, "dtd");
        vtab(VtabGroup.NATURAL, "oxford_flowers102", "flowers102", "flowers", "flower102");
        vtab(VtabGroup.NATURAL, "oxford_iiit_pet", "pets", "pet", "oxford_pets", "oxford_pet", "oxford_iiit_pets");
        vtab(VtabGroup.NATURAL, "svhn", "nhas"); // MLAE's Table 10 prints "NHAS" for the SVHN column
        vtab(VtabGroup.NATURAL, "sun397", "sun");
        vtab(VtabGroup.SPECIALIZED, "patch_camelyon", "camelyon", "pcam");
        vtab(VtabGroup.SPECIALIZED, "eurosat");
        vtab(VtabGroup.SPECIALIZED, "resisc45", "resisc");
        vtab(VtabGroup.SPECIALIZED, "diabetic_retinopathy", "retinopathy");
        vtab(VtabGroup.STRUCTURED, "clevr_count", "clevr_counting");
        vtab(VtabGroup.STRUCTURED, "clevr_dist", "clevr_distance");
        vtab(VtabGroup.STRUCTURED, "dmlab");
        vtab(VtabGroup.STRUCTURED, "kitti", "kitti_dist", "kitti_distance");
        vtab(VtabGroup.STRUCTURED, "dsprites_loc", "dspr_loc", "dsprites_location");
        vtab(VtabGroup.STRUCTURED, "dsprites_ori", "dspr_ori", "dsprites_orientation");
        vtab(VtabGroup.STRUCTURED, "smallnorb_azi", "smallnorb_azim", "snorb_azim", "snorb_azi", "smallnorb_azimuth");
        vtab(VtabGroup.STRUCTURED, "smallnorb_ele", "snorb_ele", "smallnorb_elevation", "snorb_elevation");
        alias("cub", "cub_200_2011", "cub200", "cub_200");
        alias("nabirds");
        alias("oxford_flowers", "oxfordflower", "oxford_flower");
        alias("stanford_dogs", "stanforddogs", "dogs");
        alias("stanford_cars", "stanfordcars", "cars");
    }

    private Benchmarks() {}

    private static void vtab(VtabGroup group, String name, String... aliases) {
        VTAB.put(name, group);
        alias(name, aliases);
    }

    private static void alias(String name, String... aliases) {
        ALIASES.put(name, name);
        for (String a : aliases) {
            ALIASES.put(a, name);
        }
    }

    /** The 19 VTAB-1k task names, Natural then Specialized then Structured (the papers' column order). */
    public static List<String> vtabTasks() {
        return List.copyOf(VTAB.keySet());
    }

    /** The five FGVC datasets in the papers' column order. */
    public static List<String> fgvcTasks() {
        return FGVC;
    }

    /** The canonical VTAB-1k task name of any accepted spelling ({@code VTAB-1k/sNORB-Azim} -> {@code smallnorb_azi}). */
    public static Optional<String> vtabTask(String dataset) {
        return canonical(dataset).filter(VTAB::containsKey);
    }

    /** The canonical FGVC dataset name of any accepted spelling. */
    public static Optional<String> fgvcTask(String dataset) {
        return canonical(dataset).filter(FGVC::contains);
    }

    /** The VTAB-1k group of a dataset name, if it is a VTAB-1k task. */
    public static Optional<VtabGroup> vtabGroup(String dataset) {
        return vtabTask(dataset).map(VTAB::get);
    }

    private static Optional<String> canonical(String dataset) {
        return dataset == null ? Optional.empty() : Optional.ofNullable(ALIASES.get(normalise(dataset)));
    }

    /**
     * Lower case, last path segment, separators as underscores, without a {@code vtab}/{@code vtab_1k}/{@code fgvc}
     * prefix or a {@code _1k} suffix: {@code "VTAB-1k/sNORB-Azim"} becomes {@code snorb_azim}.
     */
    static String normalise(String dataset) {
        String name = dataset.trim().toLowerCase(Locale.ROOT);
        name = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
        name = name.replaceAll("[-\\s.]+", "_");
        name = name.replaceFirst("^(vtab_?(1k_)?|fgvc_)", "");
        return name.replaceFirst("_1k$", "");
    }
}
