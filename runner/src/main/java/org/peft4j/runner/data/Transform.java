package org.peft4j.runner.data;

import java.util.Random;

/**
 * The image pipeline of a run. {@code direct} (VTAB): resize to the input size, no augmentation.
 * {@code crop} (FGVC, VPT's recipe): resize to size/0.875 (256 for 224), random crop + horizontal flip for
 * training, center crop for evaluation. Then scale to [0, 1] and normalise with mean / std.
 */
public record Transform(String mode, int imageSize, float[] mean, float[] std) {

    /** Side of the square images kept in memory. */
    public int cacheSize() {
        return mode.equals("crop") ? (int) Math.round(imageSize / 0.875) : imageSize;
    }

    /** Writes one image as normalised CHW floats into {@code out} at {@code offset}. */
    void apply(byte[] rgb, boolean training, Random random, float[] out, int offset) {
        int cache = cacheSize();
        int s = imageSize;
        int top = (cache - s) / 2;
        int left = (cache - s) / 2;
        boolean flip = false;
        if (mode.equals("crop") && training) {
            top = random.nextInt(cache - s + 1);
            left = random.nextInt(cache - s + 1);
            flip = random.nextBoolean();
        }
        int plane = s * s;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                int sx = flip ? left + s - 1 - x : left + x;
                int src = ((top + y) * cache + sx) * 3;
                int dst = offset + y * s + x;
                for (int c = 0; c < 3; c++) {
                    out[dst + c * plane] = ((rgb[src + c] & 0xff) / 255f - mean[c]) / std[c];
                }
            }
        }
    }
}
