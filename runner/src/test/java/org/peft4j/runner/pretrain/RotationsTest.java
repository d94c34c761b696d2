package org.peft4j.runner.pretrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.Transform;

class RotationsTest {

    /** [[a, b], [c, d]] = [[1, 2], [3, 4]], one byte per pixel. */
    private static final byte[] PATTERN = {1, 2, 3, 4};

    @Test
    void quarterTurnsAreCounterClockwiseAsNumpyRot90() {
        assertThat(Rotations.rotate(PATTERN, 2, 1, 0)).containsExactly(1, 2, 3, 4);
        assertThat(Rotations.rotate(PATTERN, 2, 1, 1)).containsExactly(2, 4, 1, 3); // [[b, d], [a, c]]
        assertThat(Rotations.rotate(PATTERN, 2, 1, 2)).containsExactly(4, 3, 2, 1); // [[d, c], [b, a]]
        assertThat(Rotations.rotate(PATTERN, 2, 1, 3)).containsExactly(3, 1, 4, 2); // [[c, a], [d, b]]
        assertThat(Rotations.rotate(PATTERN, 2, 1, 4)).containsExactly(PATTERN);
    }

    @Test
    void rotationsComposeAndMoveWholePixels() {
        byte[] image = new byte[3 * 3 * 3];
        for (int i = 0; i < image.length; i++) {
            image[i] = (byte) i;
        }
        byte[] once = Rotations.rotate(image, 3, 3, 1);
        assertThat(Rotations.rotate(once, 3, 3, 1)).containsExactly(Rotations.rotate(image, 3, 3, 2));
        assertThat(Rotations.rotate(once, 3, 3, 3)).containsExactly(image);
        // top-left pixel after a counter-clockwise turn is the old top-right one (x = 2, y = 0), channels intact
        assertThat(new byte[] {once[0], once[1], once[2]}).containsExactly(6, 7, 8);
        assertThatThrownBy(() -> Rotations.rotate(image, 4, 3, 1)).isInstanceOf(PeftException.class)
                .hasMessageContaining("27 bytes is not 4x4x3");
    }

    @Test
    void theTaskHoldsEveryRotationLabelledByItsQuarterTurns() {
        byte[] rgb = new byte[2 * 2 * 3]; // channel c of pixel p = PATTERN[p] + 10 c
        for (int p = 0; p < 4; p++) {
            for (int c = 0; c < 3; c++) {
                rgb[3 * p + c] = (byte) (PATTERN[p] + 10 * c);
            }
        }
        Transform identity = new Transform("direct", 2, new float[] {0, 0, 0}, new float[] {1, 1, 1});
        ImageSet task = Rotations.task("rot", List.of(rgb, rgb), identity);
        assertThat(task.size()).isEqualTo(8);
        assertThat(task.numClasses()).isEqualTo(4);
        assertThat(task.groupSize()).as("the four rotations of an image are batched together").isEqualTo(4);
        try (NDManager m = NDManager.newBaseManager()) {
            NDList batch = task.batch(new int[] {0, 1, 2, 3, 5}, true, new Random(0), m);
            assertThat(batch.get(0).getShape()).isEqualTo(new Shape(5, 3, 2, 2));
            assertThat(batch.get(1).toLongArray()).containsExactly(0, 1, 2, 3, 1);
            float[] x = batch.get(0).mul(255).round().toFloatArray();
            int[][] expected = {{1, 2, 3, 4}, {2, 4, 1, 3}, {4, 3, 2, 1}, {3, 1, 4, 2}, {2, 4, 1, 3}};
            for (int b = 0; b < 5; b++) {
                for (int c = 0; c < 3; c++) {
                    for (int p = 0; p < 4; p++) {
                        assertThat(x[b * 12 + c * 4 + p]).as("item %d channel %d pixel %d", b, c, p).isEqualTo(expected[b][p] + 10f * c);
                    }
                }
            }
        }
    }

    @Test
    void anInMemorySetChecksItsImages() {
        Transform t0 = new Transform("direct", 2, new float[] {0, 0, 0}, new float[] {1, 1, 1});
        ImageSet three = ImageSet.of("s", t0, new byte[][] {new byte[12], new byte[12], new byte[12]}, new int[] {0, 1, 2}, 4);
        assertThatThrownBy(() -> three.grouped(2)).isInstanceOf(PeftException.class)
                .hasMessage("image set s: 3 images do not split into groups of 2");
        Transform t = new Transform("direct", 2, new float[] {0, 0, 0}, new float[] {1, 1, 1});
        assertThatThrownBy(() -> ImageSet.of("s", t, new byte[][] {new byte[11]}, new int[] {0}, 4))
                .isInstanceOf(PeftException.class).hasMessage("image set s: image 0 has 11 bytes, expected 2x2 RGB (12)");
        assertThatThrownBy(() -> ImageSet.of("s", t, new byte[][] {new byte[12]}, new int[] {4}, 4))
                .isInstanceOf(PeftException.class).hasMessage("image set s: label 4 of image 0 is not in [0, 4)");
        assertThatThrownBy(() -> ImageSet.of("s", t, new byte[][] {new byte[12]}, new int[] {0, 1}, 4))
                .isInstanceOf(PeftException.class).hasMessage("image set s: 1 images but 2 labels");
    }
}
