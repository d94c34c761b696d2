package org.peft4j.backbone.swin;

import java.util.List;

/**
 * One Swin Transformer size, as timm's tiny entry per variant: only the numbers differ. Stage {@code i} has
 * width {@code embedDim * 2^i}, {@code depths.get(i)} blocks and {@code heads.get(i)} attention heads; every
 * stage after the first starts with a patch merging that halves the feature map.
 *
 * @param imageSize default input size (the model is built for one size, as timm's strict image size)
 * @param windowSize target attention window; a stage whose feature map is not larger uses the whole map
 */
public record SwinSpec(
        String name,
        int imageSize,
        int patchSize,
        int windowSize,
        int embedDim,
        List<Integer> depths,
        List<Integer> heads,
        double mlpRatio,
        boolean qkvBias) {

    public SwinSpec {
        depths = List.copyOf(depths);
        heads = List.copyOf(heads);
        if (depths.isEmpty() || depths.size() != heads.size()) {
            throw new IllegalArgumentException(name + ": need one head count per stage, got depths " + depths + " and heads " + heads);
        }
        for (int i = 0; i < depths.size(); i++) {
            if (depths.get(i) <= 0) {
                throw new IllegalArgumentException(name + ": stage " + i + " has no blocks");
            }
            if (stageDim(i) % heads.get(i) != 0) {
                throw new IllegalArgumentException(name + ": stage " + i + " width " + stageDim(i)
                        + " is not divisible by " + heads.get(i) + " heads");
            }
        }
        if (windowSize <= 0 || patchSize <= 0) {
            throw new IllegalArgumentException(name + ": window and patch sizes must be positive");
        }
    }

    static SwinSpec of(String name, int imageSize, int patch, int window, int embed, List<Integer> depths, List<Integer> heads) {
        return new SwinSpec(name, imageSize, patch, window, embed, depths, heads, 4.0, true);
    }

    public int stages() {
        return depths.size();
    }

    /** Blocks over all stages (Swin-T: 12). */
    public int totalDepth() {
        return depths.stream().mapToInt(Integer::intValue).sum();
    }

    public int stageDim(int stage) {
        return embedDim << stage;
    }

    /** Width of the pooled features: the last stage's. */
    public int numFeatures() {
        return stageDim(stages() - 1);
    }

    public int mlpHidden(int stage) {
        return (int) (stageDim(stage) * mlpRatio);
    }
}
