package org.peft4j.runner.data;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.peft4j.api.PeftException;

/**
 * The images of one split with their labels, and the per-batch part of the pipeline (crop, flip, to CHW bytes).
 * Images on disk are decoded and resized on first use, on the decoding threads, and kept only while the run's
 * {@link CacheBudget} lasts; the rest are decoded again when needed. Memory stays bounded whatever the split's
 * size; a 1k training split at 224 px (150 MB) normally stays cached.
 */
public final class ImageSet {

    /** Where the resized RGB of image {@code i} comes from. */
    private interface Source {
        byte[] rgb(int index);

        /** Forgets cached images (their budget is given back). */
        default void dropCache() {}
    }

    /** Image files decoded on first use, cached while the budget lasts. */
    private static final class DiskImages implements Source {
        private final List<Sample> samples;
        private final int size;
        private final long bytes;
        private final CacheBudget budget;
        private final AtomicReferenceArray<byte[]> cache;

        DiskImages(List<Sample> samples, int size, CacheBudget budget) {
            this.samples = samples;
            this.size = size;
            this.bytes = 3L * size * size;
            this.budget = budget;
            this.cache = new AtomicReferenceArray<>(samples.size());
        }

        @Override
        public byte[] rgb(int index) {
            byte[] cached = cache.get(index);
            if (cached != null) {
                return cached;
            }
            Sample s = samples.get(index);
            ImageDecoder.Rgb decoded = ImageDecoder.decode(s.image(), s.where());
            byte[] rgb = Resampler.resize(decoded.pixels(), decoded.height(), decoded.width(), size, size);
            if (budget.tryReserve(bytes) && !cache.compareAndSet(index, null, rgb)) {
                budget.release(bytes); // another thread cached it first
            }
            return rgb;
        }

        @Override
        public void dropCache() {
            for (int i = 0; i < cache.length(); i++) {
                if (cache.getAndSet(i, null) != null) {
                    budget.release(bytes);
                }
            }
        }
    }

    private final String name;
    private final LabelMap classes;
    private final Transform transform;
    private final Source source;
    private final int[] labels;
    private final int groupSize;

    private ImageSet(String name, LabelMap classes, Transform transform, Source source, int[] labels, int groupSize) {
        this.name = name;
        this.classes = classes;
        this.transform = transform;
        this.source = source;
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
        LabelMap classes = LabelMap.dense(numClasses, IntStream.of(labels).boxed().toList(), name);
        return new ImageSet(name, classes, transform, index -> rgb[index], labels, 1);
    }

    /**
     * The same images, declared to come in groups of {@code size} consecutive items that are views of one source
     * image (e.g. its four rotations). The trainer shuffles whole groups, so a group is trained on in one batch
     * (when the batch size is a multiple of {@code size}).
     */
    public ImageSet grouped(int size) {
        if (size <= 0 || labels.length % size != 0) {
            throw new PeftException("image set " + name + ": " + labels.length + " images do not split into groups of " + size);
        }
        return new ImageSet(name, classes, transform, source, labels, size);
    }

    /**
     * The images of {@code split}, decoded when first used and cached within {@code budget} ({@link ImageFiles} checks
     * the files beforehand).
     */
    public static ImageSet load(SplitList split, Transform transform, CacheBudget budget) {
        List<Sample> samples = split.samples();
        return new ImageSet(split.name(), split.labels(), transform, new DiskImages(samples, transform.cacheSize(), budget),
                samples.stream().mapToInt(Sample::label).toArray(), 1);
    }

    /** Forgets the images cached so far and gives their bytes back to the budget (the set stays usable). */
    public void dropCache() {
        source.dropCache();
    }

    public int size() {
        return labels.length;
    }

    public int numClasses() {
        return classes.numClasses();
    }

    /** The task's classes (how file labels map to classifier outputs). */
    public LabelMap labels() {
        return classes;
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
     * The batches {@code batches} of one pass, prepared ahead on the decoding threads; {@code random} gives the
     * crop and flip randomness of batch {@code b} (used only when training).
     */
    public BatchStream stream(List<int[]> batches, boolean training, IntFunction<Random> random) {
        return new BatchStream(this, batches, training, random);
    }

    /** Consecutive batches of {@code batchSize} over the whole set, in order (evaluation). */
    public static List<int[]> inOrder(int size, int batchSize) {
        return IntStream.range(0, (size + batchSize - 1) / batchSize)
                .mapToObj(b -> IntStream.range(b * batchSize, Math.min(size, (b + 1) * batchSize)).toArray()).toList();
    }

    /**
     * The batch of {@code indices} as (images {@code [B, 3, S, S]} float32, labels {@code [B]} int64) in
     * {@code manager}; {@code random} drives crops and flips when training.
     */
    public NDList batch(int[] indices, boolean training, Random random, NDManager manager) {
        return submit(indices, training, random).await().toNDList(manager);
    }

    /** A batch being prepared: one task per image on the decoding threads, each writing its own slice of the bytes. */
    final class Pending {
        private final HostBatch batch;
        private final List<Future<?>> images;

        private Pending(HostBatch batch, List<Future<?>> images) {
            this.batch = batch;
            this.images = images;
        }

        HostBatch await() {
            Decoders.awaitAll(images);
            return batch;
        }

        void cancel() {
            images.forEach(f -> f.cancel(false));
        }
    }

    /** Queues the images of one batch; the views (crop, flip) are drawn now, in order, from {@code random}. */
    Pending submit(int[] indices, boolean training, Random random) {
        int s = transform.imageSize();
        int perImage = 3 * s * s;
        byte[] pixels = new byte[indices.length * perImage];
        long[] y = new long[indices.length];
        List<Future<?>> images = new ArrayList<>(indices.length);
        for (int b = 0; b < indices.length; b++) {
            Transform.View view = transform.view(training, random);
            int index = indices[b];
            int offset = b * perImage;
            y[b] = labels[index];
            images.add(Decoders.POOL.submit(() -> transform.copy(source.rgb(index), view, pixels, offset)));
        }
        return new Pending(new HostBatch(pixels, y, s, transform), images);
    }
}
