package org.peft4j.runner.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;
import org.peft4j.runner.IdxFiles;

class IdxTest {

    @TempDir Path dir;

    /** Three 2x3 images whose pixels say where they are: image i, pixel p = 10 i + p. */
    private static final List<byte[]> IMAGES = List.of(pixels(0), pixels(1), pixels(2));

    private static byte[] pixels(int image) {
        byte[] b = new byte[6];
        for (int p = 0; p < 6; p++) {
            b[p] = (byte) (10 * image + p);
        }
        b[5] = (byte) (250 - image); // above 127: read as unsigned, not sign-extended
        return b;
    }

    @Test
    void readsPlainAndGzippedFilesAlike() throws Exception {
        for (boolean gzip : new boolean[] {false, true}) {
            Path file = IdxFiles.write(dir.resolve("images" + (gzip ? ".gz" : "")), Idx.IMAGES_MAGIC, IMAGES, 2, 3, gzip);
            Idx.Images all = Idx.readImages(file, 0);
            assertThat(all.count()).isEqualTo(3);
            assertThat(all.total()).isEqualTo(3);
            assertThat(all.rows()).isEqualTo(2);
            assertThat(all.cols()).isEqualTo(3);
            assertThat(all.pixels()).containsExactly(concat(IMAGES));
            // image 1 as RGB: every gray value three times
            assertThat(all.rgb(1)).containsExactly(10, 10, 10, 11, 11, 11, 12, 12, 12, 13, 13, 13, 14, 14, 14,
                    (byte) 249, (byte) 249, (byte) 249);
        }
    }

    @Test
    void gzipIsRecognisedByContentNotByName() throws Exception {
        Path file = IdxFiles.write(dir.resolve("no-extension"), Idx.IMAGES_MAGIC, IMAGES, 2, 3, true);
        assertThat(Idx.readImages(file, 0).pixels()).containsExactly(concat(IMAGES));
    }

    @Test
    void aLimitReadsTheFirstImages() throws Exception {
        Path file = IdxFiles.write(dir.resolve("images"), Idx.IMAGES_MAGIC, IMAGES, 2, 3, false);
        Idx.Images two = Idx.readImages(file, 2);
        assertThat(two.count()).isEqualTo(2);
        assertThat(two.total()).isEqualTo(3);
        assertThat(two.pixels()).containsExactly(concat(IMAGES.subList(0, 2)));
        assertThat(Idx.readImages(file, 99).count()).isEqualTo(3);
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("train-images-idx3-ubyte.gz");
        assertThatThrownBy(() -> Idx.readImages(missing, 0)).isInstanceOf(PeftException.class)
                .hasMessage("IDX file not found: " + missing);
    }

    @Test
    void aLabelFileIsRefusedWithTheExpectedMagicNumber() throws Exception {
        Path labels = IdxFiles.write(dir.resolve("labels.gz"), 0x00000801, List.of(), 0, 0, true);
        assertThatThrownBy(() -> Idx.readImages(labels, 0)).isInstanceOf(PeftException.class)
                .hasMessageStartingWith(labels + " is not an IDX image file: magic number 0x00000801, expected 0x00000803")
                .hasMessageContaining("IDX label file");
    }

    @Test
    void aFileOfAnotherKindIsRefused() throws Exception {
        Path png = Files.write(dir.resolve("x.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0, 0, 0, 0, 0, 0, 0});
        assertThatThrownBy(() -> Idx.readImages(png, 0)).isInstanceOf(PeftException.class)
                .hasMessageContaining("magic number 0x89504e47, expected 0x00000803 (unsigned bytes, 3 dimensions");
        Path tiny = Files.write(dir.resolve("tiny"), new byte[] {0, 0});
        assertThatThrownBy(() -> Idx.readImages(tiny, 0)).isInstanceOf(PeftException.class)
                .hasMessage(tiny + " is not an IDX image file: it ends before the header's magic number");
    }

    @Test
    void aTruncatedFileSaysWhatItPromised() throws Exception {
        Path file = IdxFiles.write(dir.resolve("images"), Idx.IMAGES_MAGIC, IMAGES, 2, 3, false);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 1));
        assertThatThrownBy(() -> Idx.readImages(file, 0)).isInstanceOf(PeftException.class)
                .hasMessageContaining(file + " is truncated: its header promises 3 images of 2x3");
        assertThat(Idx.readImages(file, 2).count()).as("the first two images are complete").isEqualTo(2);
    }

    private static byte[] concat(List<byte[]> parts) {
        byte[] out = new byte[parts.stream().mapToInt(p -> p.length).sum()];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
