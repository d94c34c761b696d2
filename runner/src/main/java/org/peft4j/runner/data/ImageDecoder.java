package org.peft4j.runner.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.peft4j.api.PeftException;

/**
 * Decodes image files to interleaved 8-bit RGB as PIL's {@code Image.open(f).convert("RGB")} does (what timm and the
 * papers' loaders call): gray images keep their values, copied to the three channels. Java's {@code getRGB} would
 * treat 8-bit gray as linear light and gamma-encode it (128 becomes 188), so gray pixels are read from the raster.
 */
public final class ImageDecoder {

    /** A decoded image: {@code height x width x 3} bytes. */
    public record Rgb(byte[] pixels, int height, int width) {}

    private ImageDecoder() {}

    /** Decodes {@code file}; {@code where} names the list entry that refers to it, for messages. */
    public static Rgb decode(Path file, String where) {
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new PeftException("cannot read image " + file + " (listed in " + where + "): " + e.getMessage());
        }
        if (image == null) {
            throw notAnImage(file, where);
        }
        return new Rgb(rgb(image), image.getHeight(), image.getWidth());
    }

    /**
     * Checks that {@code file} starts like an image ImageIO can decode and has a size, reading only its header (cheap
     * enough for every file of a large split before any training starts).
     */
    public static void probe(Path file, String where) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new PeftException("cannot open image " + file + " (listed in " + where + ")");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw notAnImage(file, where);
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                if (reader.getWidth(0) <= 0 || reader.getHeight(0) <= 0) {
                    throw new PeftException("image " + file + " (listed in " + where + ") has no pixels");
                }
            } finally {
                reader.dispose();
            }
        } catch (IOException e) {
            throw new PeftException("cannot read image " + file + " (listed in " + where + "): " + e.getMessage());
        }
    }

    /** Interleaved RGB of a decoded image; gray (any bit depth, with or without alpha) straight from the raster. */
    static byte[] rgb(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[w * h * 3];
        ColorModel model = image.getColorModel();
        if (model.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(model instanceof IndexColorModel)) {
            Raster raster = image.getRaster();
            int max = (1 << model.getComponentSize(0)) - 1;
            int[] gray = raster.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < gray.length; i++) {
                byte v = (byte) (max == 255 ? gray[i] : Math.round(gray[i] * 255.0 / max));
                rgb[3 * i] = v;
                rgb[3 * i + 1] = v;
                rgb[3 * i + 2] = v;
            }
            return rgb;
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w); // colour and palette images: already sRGB, alpha dropped
        for (int i = 0; i < argb.length; i++) {
            rgb[3 * i] = (byte) (argb[i] >> 16);
            rgb[3 * i + 1] = (byte) (argb[i] >> 8);
            rgb[3 * i + 2] = (byte) argb[i];
        }
        return rgb;
    }

    private static PeftException notAnImage(Path file, String where) {
        return new PeftException("not a readable image: " + file + " (listed in " + where + "); expected PNG, JPEG, BMP or GIF");
    }
}
