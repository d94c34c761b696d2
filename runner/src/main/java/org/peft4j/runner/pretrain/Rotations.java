package org.peft4j.runner.pretrain;

import java.util.List;
import org.peft4j.api.PeftException;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.Transform;

/**
 * The pretext task of Gidaris et al. 2018 ("Unsupervised representation learning by predicting image
 * rotations"): every image appears rotated by 0, 90, 180 and 270 degrees, and the label is which rotation it
 * got (4 classes). Rotations are counter-clockwise, as {@code numpy.rot90(image, k)}.
 */
public final class Rotations {

    /** Number of classes of the task: rotations by 0, 90, 180, 270 degrees. */
    public static final int CLASSES = 4;

    private Rotations() {}

    /**
     * {@code image} (square, {@code size x size}, interleaved with {@code channels} bytes per pixel) rotated
     * counter-clockwise by {@code quarterTurns} x 90 degrees, as a new array.
     */
    public static byte[] rotate(byte[] image, int size, int channels, int quarterTurns) {
        if (image.length != size * size * channels) {
            throw new PeftException("image of " + image.length + " bytes is not " + size + "x" + size + "x" + channels);
        }
        int k = Math.floorMod(quarterTurns, CLASSES);
        int last = size - 1;
        byte[] out = new byte[image.length];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                // numpy.rot90: out[y][x] = in[x][last-y] for one quarter turn, composed for k
                int sy;
                int sx;
                switch (k) {
                    case 0 -> {
                        sy = y;
                        sx = x;
                    }
                    case 1 -> {
                        sy = x;
                        sx = last - y;
                    }
                    case 2 -> {
                        sy = last - y;
                        sx = last - x;
                    }
                    default -> {
                        sy = last - x;
                        sx = y;
                    }
                }
                System.arraycopy(image, (sy * size + sx) * channels, out, (y * size + x) * channels, channels);
            }
        }
        return out;
    }

    /**
     * The rotation task over {@code images} (RGB at {@code transform.cacheSize()}): image {@code i} rotated by
     * {@code k} quarter turns is item {@code 4 i + k} with label {@code k}; the four form a group trained on in one batch.
     */
    public static ImageSet task(String name, List<byte[]> images, Transform transform) {
        int size = transform.cacheSize();
        byte[][] rotated = new byte[images.size() * CLASSES][];
        int[] labels = new int[rotated.length];
        java.util.stream.IntStream.range(0, images.size()).parallel().forEach(i -> {
            for (int k = 0; k < CLASSES; k++) {
                rotated[CLASSES * i + k] = rotate(images.get(i), size, 3, k);
                labels[CLASSES * i + k] = k;
            }
        });
        // the four rotations of an image share a batch, as in Gidaris et al.: it makes the signal orientation,
        // not image content (from scratch, shuffled rotations stay at chance several times longer)
        return ImageSet.of(name, transform, rotated, labels, CLASSES).grouped(CLASSES);
    }
}
