package org.peft4j.runner;

import java.awt.image.BufferedImage;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;

/** Writes MNIST-style IDX files for tests. */
public final class IdxFiles {

    private IdxFiles() {}

    /** Writes {@code images} ({@code rows x cols} bytes each) with the given magic number, gzipped or plain. */
    public static Path write(Path file, int magic, List<byte[]> images, int rows, int cols, boolean gzip) throws IOException {
        try (OutputStream raw = Files.newOutputStream(file);
                DataOutputStream out = new DataOutputStream(gzip ? new GZIPOutputStream(raw) : raw)) {
            out.writeInt(magic);
            out.writeInt(images.size());
            out.writeInt(rows);
            out.writeInt(cols);
            for (byte[] image : images) {
                out.write(image);
            }
        }
        return file;
    }

    /** The first {@code n} training images of the bundled fashion-1k (28x28 grayscale) as a gzipped IDX file. */
    public static Path fashionTrain(Path file, int n) throws IOException {
        List<String> lines = Files.readAllLines(TestData.FASHION.resolve("train800val200.txt")).subList(0, n);
        List<byte[]> images = new java.util.ArrayList<>();
        for (String line : lines) {
            BufferedImage image = ImageIO.read(TestData.FASHION.resolve(line.substring(0, line.lastIndexOf(' '))).toFile());
            byte[] gray = new byte[28 * 28];
            image.getRaster().getDataElements(0, 0, 28, 28, gray);
            images.add(gray);
        }
        return write(file, 0x00000803, images, 28, 28, true);
    }
}
