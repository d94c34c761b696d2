package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.LinearSite;

/**
 * Non-overlapping patch embedding: {@code [B, C, H, W] -> [B, N, D]} (or {@code [B, gh, gw, D]} with {@link
 * #forwardGrid}). A conv with kernel = stride = patch is a linear map of each flattened patch, so the
 * projection is a LINEAR site ({@code patch_embed.proj}, weight {@code [D, C*p*p]}) that adapters can target;
 * checkpoints' 4-D conv weights are reshaped on load.
 */
public final class PatchEmbed extends ModuleBlock {

    private final int patch;
    private final int inChannels;
    private final int dim;
    private final LinearSite proj;

    public PatchEmbed(String id, int inChannels, int dim, int patch) {
        this.patch = patch;
        this.inChannels = inChannels;
        this.dim = dim;
        this.proj = child("proj", LinearSite.builder().setId(id)
                .setFeatures(inChannels * patch * patch, dim).build());
    }

    public LinearSite proj() {
        return proj;
    }

    /** Patch tokens as a grid {@code [B, H/p, W/p, D]}. */
    public NDArray forwardGrid(ParameterStore store, NDArray images, boolean training) {
        Shape s = images.getShape();
        if (s.dimension() != 4 || s.get(1) != inChannels) {
            throw new PeftException("expected images [B, " + inChannels + ", H, W], got " + s);
        }
        long b = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        if (h % patch != 0 || w % patch != 0) {
            throw new PeftException("image size " + h + "x" + w + " is not a multiple of the patch size " + patch);
        }
        long gh = h / patch;
        long gw = w / patch;
        // [B, C, gh, p, gw, p] -> [B, gh, gw, C, p, p]: flatten order (C, kh, kw) matches the conv weight
        NDArray patches = images.reshape(b, inChannels, gh, patch, gw, patch)
                .transpose(0, 2, 4, 1, 3, 5)
                .reshape(b, gh, gw, (long) inChannels * patch * patch);
        return proj.forward(store, new NDList(patches), training).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray grid = forwardGrid(store, inputs.singletonOrThrow(), training);
        Shape g = grid.getShape();
        return new NDList(grid.reshape(g.get(0), g.get(1) * g.get(2), dim));
    }

    /** Reshapes a conv weight {@code [D, C, p, p]} from a checkpoint into the site's {@code [D, C*p*p]}. */
    public static NDArray flattenConvWeight(NDArray convWeight) {
        Shape s = convWeight.getShape();
        return s.dimension() == 4 ? convWeight.reshape(s.get(0), s.get(1) * s.get(2) * s.get(3)) : convWeight;
    }

    /**
     * The inverse of {@link #flattenConvWeight}: the site's {@code [D, C*p*p]} weight as the {@code [D, C, p, p]}
     * conv weight timm stores, for writing checkpoints other frameworks read.
     */
    public static NDArray convWeight(NDArray flatWeight, int inChannels) {
        Shape s = flatWeight.getShape();
        if (s.dimension() == 4) {
            return flatWeight;
        }
        long perChannel = s.dimension() == 2 ? s.get(1) / inChannels : 0;
        long patch = Math.round(Math.sqrt(perChannel));
        if (s.dimension() != 2 || perChannel * inChannels != s.get(1) || patch * patch != perChannel) {
            throw new PeftException("patch embedding weight of shape " + s + " is not [D, " + inChannels + "*p*p]");
        }
        return flatWeight.reshape(s.get(0), inChannels, patch, patch);
    }
}
