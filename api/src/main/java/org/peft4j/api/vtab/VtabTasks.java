package org.peft4j.api.vtab;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The 19 tasks of VTAB-1k (Zhai et al. 2019) and their groups, looked up from a run's dataset name. Methods
 * whose recipes differ per task or per group read it: MLAE's Table 10 presets, DMLoRA's slow/fast pruning.
 *
 * <p>Tasks are named as the VTAB-1k folders of the VPT/NOAH layout ({@code cifar}, {@code oxford_flowers102},
 * {@code smallnorb_azi}, ...); common other spellings ({@code cifar100}, {@code Flowers102},
 * {@code vtab-1k/sNORB-Azim}, {@code kitti_dist}) are accepted.
 */
public final class VtabTasks {

    /** VTAB-1k's three groups of tasks. */
    public enum Group {
        /** Photos of everyday objects and scenes (7 tasks). */
        NATURAL,
        /** Remote sensing and medical images (4 tasks). */
        SPECIALIZED,
        /** Synthetic scenes: counting, distance, orientation (8 tasks). */
        STRUCTURED;

        /** {@code Natural}, {@code Specialized}, {@code Structured}, as the papers print them. */
        public String label() {
            String lower = name().toLowerCase(Locale.ROOT);
            return Character.toUpperCase(lower.charAt(0)) + lower.substring(1);
        }
    }

    /** One task: its canonical name and group. */
    public record Task(String name, Group group) {}

    private static final Map<String, Task> TASKS = new LinkedHashMap<>();
    private static final Map<String, String> ALIASES = new LinkedHashMap<>();

    static {
        // In the order of the papers' tables.
        add("cifar", Group.NATURAL, "cifar100", "cifar_100");
        add("caltech101", Group.NATURAL, "caltech");
        add("dtd", Group.NATURAL);
        add("oxford_flowers102", Group.NATURAL, "flowers102", "flowers", "oxford_flowers", "flower102");
        add("oxford_iiit_pet", Group.NATURAL, "pets", "pet", "oxford_pets", "oxford_pet", "oxford_iiit_pets");
        add("svhn", Group.NATURAL, "nhas"); // MLAE's Table 10 prints "NHAS" for the SVHN column
        add("sun397", Group.NATURAL, "sun");
        add("patch_camelyon", Group.SPECIALIZED, "camelyon", "pcam");
        add("eurosat", Group.SPECIALIZED);
        add("resisc45", Group.SPECIALIZED, "resisc");
        add("diabetic_retinopathy", Group.SPECIALIZED, "retinopathy");
        add("clevr_count", Group.STRUCTURED, "clevr_counting");
        add("clevr_dist", Group.STRUCTURED, "clevr_distance");
        add("dmlab", Group.STRUCTURED);
        add("kitti", Group.STRUCTURED, "kitti_dist", "kitti_distance");
        add("dsprites_loc", Group.STRUCTURED, "dspr_loc", "dsprites_location");
        add("dsprites_ori", Group.STRUCTURED, "dspr_ori", "dsprites_orientation");
        add("smallnorb_azi", Group.STRUCTURED, "smallnorb_azim", "snorb_azim", "snorb_azi", "smallnorb_azimuth");
        add("smallnorb_ele", Group.STRUCTURED, "snorb_ele", "smallnorb_elevation", "snorb_elevation");
    }

    private VtabTasks() {}

    private static void add(String name, Group group, String... aliases) {
        TASKS.put(name, new Task(name, group));
        ALIASES.put(name, name);
        for (String alias : aliases) {
            ALIASES.put(alias, name);
        }
    }

    /** The task a dataset name (any accepted spelling) stands for, if it is one of VTAB-1k's. */
    public static Optional<Task> find(String dataset) {
        if (dataset == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(ALIASES.get(normalise(dataset))).map(TASKS::get);
    }

    /** The 19 tasks in the papers' order (Natural, Specialized, Structured). */
    public static List<Task> all() {
        return List.copyOf(TASKS.values());
    }

    /** The 19 canonical names in the papers' order. */
    public static List<String> names() {
        return List.copyOf(TASKS.keySet());
    }

    /**
     * Lower case, last path segment, separators as underscores, without a {@code vtab}/{@code vtab_1k} prefix
     * or a {@code _1k} suffix: {@code "VTAB-1k/sNORB-Azim"} becomes {@code snorb_azim}.
     */
    public static String normalise(String dataset) {
        String name = dataset.trim().toLowerCase(Locale.ROOT);
        name = name.substring(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
        name = name.replaceAll("[-\\s.]+", "_");
        name = name.replaceFirst("^vtab_?(1k_)?", "");
        return name.replaceFirst("_1k$", "");
    }
}
