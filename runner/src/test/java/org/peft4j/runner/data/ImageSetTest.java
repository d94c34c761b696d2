package org.peft4j.runner.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;

/** Batches prepared ahead on the decoding threads are the batches asked for, and the cache keeps to its budget. */
class ImageSetTest {

    private static final int SIDE = 8;
    private static final Transform TRANSFORM = new Transform("crop", 7, new float[] {0.5f, 0.5f, 0.5f},
            new float[] {0.5f, 0.5f, 0.5f}); // cached at 8 px, cut at random when training

    @TempDir Path dir;

    private SplitList split(int n) throws IOException {
        Random random = new Random(1);
        List<Sample> samples = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
            for (int p = 0; p < SIDE * SIDE; p++) {
                image.setRGB(p % SIDE, p / SIDE, random.nextInt(1 << 24));
            }
            Path file = dir.resolve(i + ".png");
            ImageIO.write(image, "png", file.toFile());
            samples.add(new Sample(file, i % 3, "line " + (i + 1)));
            labels.add(i % 3);
        }
        return new SplitList("s", samples, LabelMap.dense(3, labels, "s"));
    }

    @Test
    void streamedBatchesEqualBatchesMadeOneByOneCropsIncluded() throws IOException {
        ImageSet set = ImageSet.load(split(10), TRANSFORM, CacheBudget.none());
        List<int[]> batches = List.of(new int[] {3, 1, 4}, new int[] {0, 9}, new int[] {5, 2, 6, 8}, new int[] {7});
        try (NDManager m = NDManager.newBaseManager(); BatchStream stream = set.stream(batches, true, b -> new Random(100 + b))) {
            for (int b = 0; b < batches.size(); b++) {
                assertThat(stream.hasNext()).isTrue();
                NDList streamed = stream.next().toNDList(m);
                NDList direct = set.batch(batches.get(b), true, new Random(100 + b), m);
                assertThat(streamed.get(0).contentEquals(direct.get(0))).as("batch " + b).isTrue();
                assertThat(streamed.get(1).toLongArray()).containsExactly(direct.get(1).toLongArray());
                assertThat(streamed.get(1).toLongArray()).containsExactly(
                        java.util.Arrays.stream(batches.get(b)).mapToLong(i -> i % 3).toArray());
            }
            assertThat(stream.hasNext()).isFalse();
        }
    }

    @Test
    void theCacheKeepsToItsBudget() throws IOException {
        long perImage = 3L * SIDE * SIDE;
        CacheBudget budget = CacheBudget.bytes(3 * perImage + perImage / 2); // room for three images, not four
        ImageSet set = ImageSet.load(split(6), TRANSFORM, budget);
        try (BatchStream stream = set.stream(ImageSet.inOrder(6, 4), false, b -> new Random(0))) {
            while (stream.hasNext()) {
                stream.next();
            }
        }
        assertThat(budget.usedBytes()).isEqualTo(3 * perImage);
    }

    @Test
    void aBadImageMidStreamFailsTheRunWithItsNameInsteadOfHangingIt() throws IOException {
        SplitList split = split(9);
        Files.writeString(split.samples().get(5).image(), "not a png any more");
        ImageSet set = ImageSet.load(split, TRANSFORM, CacheBudget.none());
        try (BatchStream stream = set.stream(ImageSet.inOrder(9, 2), false, b -> new Random(0))) {
            stream.next();
            stream.next();
            assertThatThrownBy(stream::next).isInstanceOf(PeftException.class)
                    .hasMessageContaining(split.samples().get(5).image().toString()).hasMessageContaining("line 6");
        }
    }
}
