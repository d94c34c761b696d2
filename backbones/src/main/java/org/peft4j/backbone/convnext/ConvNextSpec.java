package org.peft4j.backbone.convnext;

import java.util.List;

/**
 * One ConvNeXt size, as timm's tiny entry per variant: only the numbers differ.
 *
 * @param imageSize default input size (any size of at least the network's stride works: it is fully convolutional)
 * @param depths blocks per stage
 * @param dims channels per stage; stage {@code i > 0} starts with a downsample from {@code dims[i-1]}
 * @param mlpRatio hidden width of each block's MLP relative to its channels
 * @param layerScaleInit initial {@code gamma} of every block (timm: 1e-6), or 0 for no layer scale
 */
public record ConvNextSpec(String name, int imageSize, List<Integer> depths, List<Integer> dims, double mlpRatio, float layerScaleInit) {

    /** Stem patch size: the 4x4 stride-4 conv. */
    public static final int STEM_STRIDE = 4;
    /** Depthwise kernel of every block (padding 3 keeps the size). */
    public static final int KERNEL = 7;

    public ConvNextSpec {
        depths = List.copyOf(depths);
        dims = List.copyOf(dims);
        if (depths.isEmpty() || depths.size() != dims.size()) {
            throw new IllegalArgumentException(name + ": needs one dim per stage, got depths " + depths + " and dims " + dims);
        }
        if (depths.stream().anyMatch(d -> d < 1) || dims.stream().anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException(name + ": depths " + depths + " and dims " + dims + " must be positive");
        }
    }

    /** timm's defaults: MLP ratio 4, layer scale 1e-6. */
    static ConvNextSpec of(String name, int imageSize, List<Integer> depths, List<Integer> dims) {
        return new ConvNextSpec(name, imageSize, depths, dims, 4.0, 1e-6f);
    }

    public int stages() {
        return depths.size();
    }

    /** Blocks over all stages: site depths run from 0 to this - 1. */
    public int totalDepth() {
        return depths.stream().mapToInt(Integer::intValue).sum();
    }

    /** Channels of the last stage (the pooled feature width). */
    public int numFeatures() {
        return dims.get(dims.size() - 1);
    }

    /** Input pixels per output pixel of the last stage: the stem's 4 times 2 per downsample. */
    public int totalStride() {
        return STEM_STRIDE << (stages() - 1);
    }

    public int mlpHidden(int dim) {
        return (int) (mlpRatio * dim);
    }
}
