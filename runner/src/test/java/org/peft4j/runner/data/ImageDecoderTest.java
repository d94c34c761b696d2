package org.peft4j.runner.data;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gray images keep their values (as PIL's convert("RGB")), whatever the file stores them as. */
class ImageDecoderTest {

    private static final int SIDE = 4;
    /** Values where a gamma conversion shows: 128 would become 188. */
    private static final int[] VALUES = {0, 1, 17, 64, 100, 127, 128, 129, 150, 188, 200, 230, 250, 253, 254, 255};

    @TempDir Path dir;

    private Path write(BufferedImage image, String name, String format) throws IOException {
        Path file = dir.resolve(name);
        assertThat(ImageIO.write(image, format, file.toFile())).as(name).isTrue();
        return file;
    }

    private Path gray8() throws IOException {
        BufferedImage gray = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSamples(0, 0, SIDE, SIDE, 0, VALUES);
        return write(gray, "gray.png", "png");
    }

    private Path rgb() throws IOException {
        BufferedImage rgb = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < VALUES.length; i++) {
            int v = VALUES[i];
            rgb.setRGB(i % SIDE, i / SIDE, v << 16 | v << 8 | v);
        }
        return write(rgb, "rgb.png", "png");
    }

    private Path gray16() throws IOException {
        BufferedImage gray = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_USHORT_GRAY);
        int[] wide = new int[VALUES.length];
        for (int i = 0; i < wide.length; i++) {
            wide[i] = VALUES[i] * 257; // 8-bit v as 16-bit: v * 65535 / 255
        }
        gray.getRaster().setSamples(0, 0, SIDE, SIDE, 0, wide);
        return write(gray, "gray16.png", "png");
    }

    private Path grayAlpha() throws IOException {
        ComponentColorModel model = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster raster = model.createCompatibleWritableRaster(SIDE, SIDE);
        raster.setSamples(0, 0, SIDE, SIDE, 0, VALUES);
        raster.setSamples(0, 0, SIDE, SIDE, 1, new int[SIDE * SIDE]); // fully transparent: PIL's convert drops alpha
        return write(new BufferedImage(model, raster, false, null), "gray-alpha.png", "png");
    }

    private static byte[] expected() {
        byte[] out = new byte[VALUES.length * 3];
        for (int i = 0; i < VALUES.length; i++) {
            out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = (byte) VALUES[i];
        }
        return out;
    }

    @Test
    void grayPngOfEveryKindDecodesToTheSameBytesAsRgb() throws IOException {
        byte[] want = expected();
        for (Path file : List.of(rgb(), gray8(), gray16(), grayAlpha())) {
            ImageDecoder.Rgb decoded = ImageDecoder.decode(file, "test");
            assertThat(decoded.height()).isEqualTo(SIDE);
            assertThat(decoded.pixels()).as(file.getFileName().toString()).isEqualTo(want);
        }
    }

    @Test
    void aGrayJpegKeepsItsValues() throws IOException {
        BufferedImage gray = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSamples(0, 0, 16, 16, 0, java.util.stream.IntStream.generate(() -> 128).limit(256).toArray());
        byte[] pixels = ImageDecoder.decode(write(gray, "gray.jpg", "jpeg"), "test").pixels();
        for (byte b : pixels) {
            assertThat(b & 0xff).isEqualTo(128); // a flat block survives JPEG exactly; getRGB would give 188
        }
    }

    @Test
    void grayAndRgbFilesOfTheSamePixelsGiveIdenticalTensors() throws IOException {
        Transform transform = new Transform("direct", SIDE, new float[] {0.5f, 0.4f, 0.3f}, new float[] {0.2f, 0.25f, 0.3f});
        LabelMap labels = LabelMap.dense(1, List.of(0), "test");
        SplitList split = new SplitList("s", List.of(new Sample(rgb(), 0, "line 1"), new Sample(gray8(), 0, "line 2")), labels);
        ImageSet set = ImageSet.load(split, transform, CacheBudget.none());
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray images = set.batch(new int[] {0, 1}, false, new Random(0), manager).get(0);
            NDArray fromRgb = images.get(0);
            NDArray fromGray = images.get(1);
            assertThat(fromGray.contentEquals(fromRgb)).isTrue();
            // pixel 6 holds 128: (128 / 255 - mean) / std in every channel
            float[] values = fromGray.toFloatArray();
            for (int c = 0; c < 3; c++) {
                float want = (128 / 255f - transform.mean()[c]) / transform.std()[c];
                assertThat(values[c * SIDE * SIDE + 6]).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-6f));
            }
        }
    }
}
