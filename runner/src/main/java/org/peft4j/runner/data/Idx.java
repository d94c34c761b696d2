package org.peft4j.runner.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import org.peft4j.api.PeftException;

/**
 * Reads MNIST-style IDX image files ({@code train-images-idx3-ubyte}, plain or gzipped; gzip is recognised by
 * its magic bytes, not the file name). Layout: a big-endian magic number {@code 0x00000803} (two zero bytes,
 * type 0x08 = unsigned byte, 3 dimensions), the image count, rows and columns as big-endian ints, then the
 * pixels row by row, one byte each (0 = black).
 */
public final class Idx {

    /** Magic number of an IDX file of unsigned bytes with 3 dimensions (images x rows x cols). */
    public static final int IMAGES_MAGIC = 0x00000803;

    /**
     * Grayscale images, {@code count x rows x cols} bytes in file order.
     *
     * @param total how many images the file holds (at least {@code count})
     */
    public record Images(int count, int rows, int cols, int total, byte[] pixels) {

        /** Image {@code index} as interleaved 8-bit RGB ({@code rows x cols x 3}, the gray value in every channel). */
        public byte[] rgb(int index) {
            int plane = rows * cols;
            byte[] out = new byte[plane * 3];
            for (int i = 0; i < plane; i++) {
                byte v = pixels[index * plane + i];
                out[3 * i] = v;
                out[3 * i + 1] = v;
                out[3 * i + 2] = v;
            }
            return out;
        }
    }

    private Idx() {}

    /**
     * Reads the first {@code max} images of {@code file} (all of them if {@code max <= 0} or the file holds fewer).
     *
     * @throws PeftException naming the file when it is missing, is not an IDX image file or is truncated
     */
    public static Images readImages(Path file, int max) {
        if (!Files.isRegularFile(file)) {
            throw new PeftException("IDX file not found: " + file);
        }
        try (DataInputStream in = new DataInputStream(open(file))) {
            int magic = readHeaderInt(in, file, "magic number");
            if (magic != IMAGES_MAGIC) {
                throw new PeftException(file + " is not an IDX image file: magic number " + hex(magic) + ", expected "
                        + hex(IMAGES_MAGIC) + " (unsigned bytes, 3 dimensions: images x rows x cols)" + hint(magic));
            }
            int total = readHeaderInt(in, file, "image count");
            int rows = readHeaderInt(in, file, "row count");
            int cols = readHeaderInt(in, file, "column count");
            if (total < 0 || rows <= 0 || cols <= 0) {
                throw new PeftException(file + ": bad IDX header, " + total + " images of " + rows + "x" + cols);
            }
            int count = max <= 0 ? total : Math.min(max, total);
            long bytes = (long) count * rows * cols;
            if (bytes > Integer.MAX_VALUE - 8) {
                throw new PeftException(file + ": " + count + " images of " + rows + "x" + cols
                        + " do not fit in memory at once; read fewer (a limit)");
            }
            byte[] pixels = new byte[(int) bytes];
            try {
                in.readFully(pixels);
            } catch (EOFException e) {
                throw new PeftException(file + " is truncated: its header promises " + total + " images of " + rows + "x" + cols
                        + " but ends before " + count + " of them were read (re-download it)");
            }
            return new Images(count, rows, cols, total, pixels);
        } catch (IOException e) {
            throw new PeftException("cannot read IDX file " + file + ": " + e.getMessage(), e);
        }
    }

    /** The file's bytes, gunzipped when it starts with gzip's magic bytes {@code 1f 8b}. */
    private static InputStream open(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16) : in;
    }

    private static int readHeaderInt(DataInputStream in, Path file, String what) throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw new PeftException(file + " is not an IDX image file: it ends before the header's " + what);
        }
    }

    private static String hint(int magic) {
        if ((magic >>> 16) != 0) {
            return "";
        }
        int type = (magic >>> 8) & 0xff;
        int dims = magic & 0xff;
        if (type == 0x08 && dims == 1) {
            return "; this is an IDX label file (1 dimension): pass the images file";
        }
        return "; this is an IDX file of type " + hex2(type) + " with " + dims + " dimension" + (dims == 1 ? "" : "s");
    }

    private static String hex(int v) {
        return String.format(Locale.ROOT, "0x%08x", v);
    }

    private static String hex2(int v) {
        return String.format(Locale.ROOT, "0x%02x", v);
    }
}
