package org.peft4j.backbone.layers;

import ai.djl.modality.cv.util.NDImageUtils;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import org.peft4j.api.PeftException;

/** Absolute position embeddings: resampling to another patch grid, as timm's {@code resample_abs_pos_embed}. */
public final class PosEmbed {

    private PosEmbed() {}

    /**
     * Resamples {@code [1, prefix + g*g, D]} to {@code [1, prefix + newH*newW, D]} with bicubic
     * interpolation (align_corners false), leaving the prefix (cls) embeddings as they are. Matches timm when
     * upsampling (the usual case, 224 to 384); when downsampling timm's antialiasing makes it differ slightly.
     */
    public static NDArray resample(NDArray posEmbed, int prefix, int newH, int newW) {
        Shape s = posEmbed.getShape();
        long tokens = s.get(1) - prefix;
        int g = (int) Math.round(Math.sqrt(tokens));
        if ((long) g * g != tokens) {
            throw new PeftException("cannot resample pos_embed " + s + ": " + tokens + " patch positions are not a square grid");
        }
        long d = s.get(2);
        if (g == newH && g == newW) {
            return posEmbed;
        }
        NDArray grid = posEmbed.get(":, " + prefix + ":, :").reshape(g, g, d); // HWC
        NDArray resized = NDImageUtils.resize(grid, newW, newH, ai.djl.modality.cv.Image.Interpolation.BICUBIC)
                .reshape(1, (long) newH * newW, d);
        if (prefix == 0) {
            return resized;
        }
        return posEmbed.get(":, :" + prefix + ", :").concat(resized, 1);
    }
}
