package org.peft4j.backbone.vit;

/**
 * One ViT size, as timm's tiny entry per variant: only the numbers differ.
 *
 * @param globalPool {@code token} (cls token after the final norm) or {@code avg} (mean of patch tokens,
 *     then {@code fc_norm}, as timm does for average pooling)
 * @param layerScaleInit initial LayerScale gamma, or 0 for none
 * @param inceptionNorm whether the weights expect mean = std = 0.5 (timm's ViT default) rather than ImageNet's
 */
public record VitSpec(
        String name,
        int imageSize,
        int patchSize,
        int embedDim,
        int depth,
        int heads,
        double mlpRatio,
        boolean qkvBias,
        String globalPool,
        float layerScaleInit,
        boolean inceptionNorm) {

    public VitSpec {
        if (embedDim % heads != 0) {
            throw new IllegalArgumentException(name + ": embed dim " + embedDim + " is not divisible by " + heads + " heads");
        }
        if (!globalPool.equals("token") && !globalPool.equals("avg")) {
            throw new IllegalArgumentException(name + ": global pool must be token or avg, got " + globalPool);
        }
    }

    static VitSpec of(String name, int imageSize, int patch, int dim, int depth, int heads) {
        return new VitSpec(name, imageSize, patch, dim, depth, heads, 4.0, true, "token", 0f, true);
    }

    public int mlpHidden() {
        return (int) (embedDim * mlpRatio);
    }
}
