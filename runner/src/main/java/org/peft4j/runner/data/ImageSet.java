package org.peft4j.runner.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.peft4j.api.PeftException;

/**
 * The images of one split, decoded and resized once and kept in memory as 8-bit RGB (1k-image sets fit
 * easily), with the per-batch part of the pipeline: crop, flip, normalise, to an NCHW float batch.
 */
public final class ImageSet {

    private final SplitList split;
    private final Transform transform;
    private final byte[][] pixels;
    private final int[] labels;

    private ImageSet(SplitList split, Transform transform, byte[][] pixels) {
        this.split = split;
        this.transform = transform;
        this.pixels = pixels;
        this.labels = split.samples().stream().mapToInt(Sample::label).toArray();
    }

    /** Decodes and resizes every image of {@code split} to the transform's cache size. */
    public static ImageSet load(SplitList split, Transform transform) {
        List<Sample> samples = split.samples();
        for (Sample s : samples) {
            if (!Files.isRegularFile(s.image())) {
                throw new PeftException("image not found: " + s.image() + " (listed in " + s.where() + ")");
            }
        }
        byte[][] pixels = new byte[samples.size()][];
        IntStream.range(0, samples.size()).parallel().forEach(i -> pixels[i] = decode(samples.get(i), transform.cacheSize()));
        return new ImageSet(split, transform, pixels);
    }

    private static byte[] decode(Sample sample, int size) {
        BufferedImage image;
        try {
            image = ImageIO.read(sample.image().toFile());
        } catch (IOException e) {
            throw new PeftException("cannot read image " + sample.image() + " (listed in " + sample.where() + "): " + e.getMessage());
        }
        if (image == null) {
            throw new PeftException("not a readable image: " + sample.image() + " (listed in " + sample.where() + "); expected PNG, JPEG, BMP or GIF");
        }
        int w = image.getWidth();
        int h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w); // grayscale and palette images become RGB here
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < argb.length; i++) {
            rgb[3 * i] = (byte) (argb[i] >> 16);
            rgb[3 * i + 1] = (byte) (argb[i] >> 8);
            rgb[3 * i + 2] = (byte) argb[i];
        }
        return Resampler.resize(rgb, h, w, size, size);
    }

    public int size() {
        return pixels.length;
    }

    public int numClasses() {
        return split.numClasses();
    }

    public String name() {
        return split.name();
    }

    public int label(int index) {
        return labels[index];
    }

    /**
     * The batch of {@code indices} as (images {@code [B, 3, S, S]} float32, labels {@code [B]} int64) in
     * {@code manager}; {@code random} drives crops and flips when training.
     */
    public NDList batch(int[] indices, boolean training, Random random, NDManager manager) {
        int s = transform.imageSize();
        int plane = s * s;
        float[] data = new float[indices.length * 3 * plane];
        long[] y = new long[indices.length];
        for (int b = 0; b < indices.length; b++) {
            int index = indices[b];
            transform.apply(pixels[index], training, random, data, b * 3 * plane);
            y[b] = labels[index];
        }
        NDArray images = manager.create(data, new Shape(indices.length, 3, s, s));
        NDArray target = manager.create(y);
        return new NDList(images, target);
    }
}
