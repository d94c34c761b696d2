package org.peft4j.runner.data;

import java.util.Random;

/**
 * The image pipeline of a run. {@code direct} (VTAB): resize to the input size, no augmentation.
 * {@code crop} (FGVC, VPT's recipe): resize to size/0.875 (256 for 224), random crop + horizontal flip for
 * training, center crop for evaluation. Then scale to [0, 1] and normalise with mean / std ({@link HostBatch}).
 */
public record Transform(String mode, int imageSize, float[] mean, float[] std) {

    /** Where an image is cut out of its cached square, and whether it is mirrored. */
    public record View(int top, int left, boolean flip) {}

    /** Side of the square images kept in memory. */
    public int cacheSize() {
        return mode.equals("crop") ? (int) Math.round(imageSize / 0.875) : imageSize;
    }

    /** The view of one image: random crop and flip when training with {@code crop}, else the centre. */
    View view(boolean training, Random random) {
        int cache = cacheSize();
        if (mode.equals("crop") && training) {
            int top = random.nextInt(cache - imageSize + 1);
            int left = random.nextInt(cache - imageSize + 1);
            return new View(top, left, random.nextBoolean());
        }
        int centre = (cache - imageSize) / 2;
        return new View(centre, centre, false);
    }

    /** Writes the view of one cached image ({@code cacheSize}² HWC) as CHW bytes into {@code out} at {@code offset}. */
    void copy(byte[] rgb, View view, byte[] out, int offset) {
        int cache = cacheSize();
        int s = imageSize;
        int plane = s * s;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                int sx = view.flip() ? view.left() + s - 1 - x : view.left() + x;
                int src = ((view.top() + y) * cache + sx) * 3;
                int dst = offset + y * s + x;
                out[dst] = rgb[src];
                out[dst + plane] = rgb[src + 1];
                out[dst + 2 * plane] = rgb[src + 2];
            }
        }
    }
}
