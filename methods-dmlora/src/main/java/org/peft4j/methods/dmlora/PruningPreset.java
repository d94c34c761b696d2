package org.peft4j.methods.dmlora;

import java.util.Locale;
import java.util.Optional;
import org.peft4j.api.data.Benchmarks;

/**
 * The supplementary's pruning presets (Sec. 9, Table 7): slow pruning for VTAB-1k Natural and Specialized, fast
 * for Structured, 8 initial branches either way. Per-dataset values were not published.
 */
public enum PruningPreset {
    /** n 8, halve every 100 epochs (Table 7's S1; the k in {100, 200} of Natural and Specialized). */
    SLOW(8, 100),
    /** n 8, halve every 10 epochs (Table 7's S3; the k in {10, 20} of Structured). */
    FAST(8, 10);

    /** The preset in force and how it was chosen, for the run's notes. */
    public record Resolution(Optional<PruningPreset> preset, String note) {}

    private final int branches;
    private final int dropEvery;

    PruningPreset(int branches, int dropEvery) {
        this.branches = branches;
        this.dropEvery = dropEvery;
    }

    public int branches() {
        return branches;
    }

    public int dropEvery() {
        return dropEvery;
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return configName() + " (n " + branches + ", halve every " + dropEvery + " epochs)";
    }

    /**
     * Resolves the {@code preset} setting for a run on {@code dataset}: {@code auto} picks by the VTAB-1k group
     * of the dataset name and falls back to slow for any other dataset; {@code none} uses no preset; {@code
     * slow} / {@code fast} as written. Null for an unknown setting.
     */
    public static Resolution resolve(String setting, String dataset) {
        String value = setting.trim().toLowerCase(Locale.ROOT);
        switch (value) {
            case "none":
                return new Resolution(Optional.empty(), "none");
            case "auto":
                return Benchmarks.vtabGroup(dataset)
                        .map(group -> {
                            PruningPreset p = group == Benchmarks.VtabGroup.STRUCTURED ? FAST : SLOW;
                            return new Resolution(Optional.of(p), "auto: dataset '" + dataset + "' is VTAB-1k "
                                    + group.title() + " (" + Benchmarks.vtabTask(dataset).orElseThrow() + ") -> " + p);
                        })
                        .orElse(new Resolution(Optional.of(SLOW), "auto: dataset '" + dataset
                                + "' is not a VTAB-1k task -> " + SLOW + ", the best single setting of Table 7"));
            default:
                for (PruningPreset p : values()) {
                    if (p.configName().equals(value)) {
                        return new Resolution(Optional.of(p), p.toString());
                    }
                }
                return null;
        }
    }
}
