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

    private final String name;
    private final int numClasses;
    private final Transform transform;
    private final byte[][] pixels;
    private final int[] labels;
    private final int groupSize;

    private ImageSet(String name, int numClasses, Transform transform, byte[][] pixels, int[] labels, int groupSize) {
        this.name = name;
        this.numClasses = numClasses;
        this.transform = transform;
        this.pixels = pixels;
        this.labels = labels;
        this.groupSize = groupSize;
    }

    /**
     * A set over images already decoded and resized in memory (e.g. read from an IDX file): each entry of
     * {@code rgb} is interleaved 8-bit RGB of side {@code transform.cacheSize()}. The arrays are kept, not copied.
     */
    public static ImageSet of(String name, Transform transform, byte[][] rgb, int[] labels, int numClasses) {
        if (rgb.length != labels.length) {
            throw new PeftException("image set " + name + ": " + rgb.length + " images but " + labels.length + " labels");
        }
        int side = transform.cacheSize();
        for (int i = 0; i < rgb.length; i++) {
            if (rgb[i].length != side * side * 3) {
                throw new PeftException("image set " + name + ": image " + i + " has " + rgb[i].length + " bytes, expected "
                        + side + "x" + side + " RGB (" + side * side * 3 + ")");
            }
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new PeftException("image set " + name + ": label " + labels[i] + " of image " + i + " is not in [0, "
                        + numClasses + ")");
            }
        }
        return new ImageSet(name, numClasses, transform, rgb, labels, 1);
    }

    /**
     * The same images, declared to come in groups of {@code size} consecutive items that are views of one source
     * image (e.g. its four rotations). The trainer shuffles whole groups, so a group is trained on in one batch
     * (when the batch size is a multiple of {@code size}).
     */
    public ImageSet grouped(int size) {
        if (size <= 0 || pixels.length % size != 0) {
            throw new PeftException("image set " + name + ": " + pixels.length + " images do not split into groups of " + size);
        }
        return new ImageSet(name, numClasses, transform, pixels, labels, size);
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
        return new ImageSet(split.name(), split.numClasses(), transform, pixels, samples.stream().mapToInt(Sample::label).toArray(), 1);
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
        return numClasses;
    }

    public String name() {
        return name;
    }

    /** Consecutive items that belong together in a batch (1 = every image on its own). */
    public int groupSize() {
        return groupSize;
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
