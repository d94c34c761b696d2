package org.peft4j.methods.mlae;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.peft4j.api.data.Benchmarks;

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

    static {
        // Table 10, in its column order: Natural, Specialized, Structured.
        add("cifar", 0.7, 2);
        add("caltech101", 0.1, 0.5);
        add("dtd", 0.7, 0.25);
        add("oxford_flowers102", 0.7, 1);
        add("oxford_iiit_pet", 0.7, 2);
        add("svhn", 0.5, 4);
        add("sun397", 0.7, 4);
        add("patch_camelyon", 0.7, 1);
        add("eurosat", 0.5, 4);
        add("resisc45", 0.5, 2);
        add("diabetic_retinopathy", 0.7, 0.25);
        add("clevr_count", 0, 0.125);
        add("clevr_dist", 0, 0.125);
        add("dmlab", 0.5, 2);
        add("kitti", 0.5, 1);
        add("dsprites_loc", 0.5, 1);
        add("dsprites_ori", 0.7, 4);
        add("smallnorb_azi", 0, 1);
        add("smallnorb_ele", 0, 0.25);
    }

    private VtabPresets() {}

    private static void add(String name, double dropout, double lambdaInit) {
        PRESETS.put(name, new Preset(name, dropout, lambdaInit));
    }

    /** The preset for a dataset name (any spelling {@link Benchmarks} accepts), if Table 10 has one. */
    public static Optional<Preset> find(String dataset) {
        return Benchmarks.vtabTask(dataset).map(PRESETS::get);
    }

    /** The 19 canonical names, in Table 10's order. */
    public static List<String> names() {
        return List.copyOf(PRESETS.keySet());
    }

}
