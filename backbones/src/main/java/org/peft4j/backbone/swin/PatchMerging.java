package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.NormSite;

/**
 * timm's PatchMerging, {@code [B, H, W, C] -> [B, ceil(H/2), ceil(W/2), 2C]}: each 2x2 neighbourhood is
 * concatenated in the order x0 = (0,0), x1 = (1,0), x2 = (0,1), x3 = (1,1) (row, column offsets; odd maps are
 * zero-padded at the bottom/right), then LayerNorm ({@code <prefix>.norm}) and a linear reduction without
 * bias ({@code <prefix>.reduction}). Both are sites outside any block (depth -1). With prompts ({@code
 * NDList(map, prompts)}) both sites see {@code [prompts, patches]} and the prompts come out reduced too.
 */
final class PatchMerging extends ModuleBlock {

    private final int dim;
    private final NormSite norm;
    private final LinearSite reduction;

    PatchMerging(String prefix, int dim, int outDim, float eps) {
        this.dim = dim;
        this.norm = child("norm", new NormSite(prefix + ".norm", -1, 4 * dim, eps));
        this.reduction = child("reduction", LinearSite.builder().setId(prefix + ".reduction")
                .setFeatures(4 * dim, outDim).optBias(false).build());
    }

    NormSite norm() {
        return norm;
    }

    LinearSite reduction() {
        return reduction;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.get(0);
        Shape s = x.getShape();
        x = ChannelsLast.padBottomRight(x, (int) (s.get(1) % 2), (int) (s.get(2) % 2));
        long b = s.get(0);
        long h = x.getShape().get(1) / 2;
        long w = x.getShape().get(2) / 2;
        // [B, H/2, 2(row), W/2, 2(col), C] -> [B, H/2, W/2, col, row, C]: flattening gives x0, x1, x2, x3
        NDArray grouped = x.reshape(b, h, 2, w, 2, dim).transpose(0, 1, 3, 4, 2, 5).reshape(b, h, w, 4L * dim);
        if (inputs.size() == 1) {
            return reduction.forward(store, norm.forward(store, new NDList(grouped), training), training);
        }
        // VPT's Swin: each prompt is repeated 4 times to the merged width, then normed and reduced with the patches
        NDArray prompts = inputs.get(1);
        long p = prompts.getShape().get(1);
        NDArray seq = NDArrays.concat(new NDList(prompts, prompts, prompts, prompts), -1)
                .concat(grouped.reshape(b, h * w, 4L * dim), 1);
        NDArray out = reduction.forward(store, norm.forward(store, new NDList(seq), training), training).singletonOrThrow();
        long outDim = out.getShape().get(2);
        return new NDList(out.get(":, " + p + ":, :").reshape(b, h, w, outDim), out.get(":, :" + p + ", :"));
    }
}
