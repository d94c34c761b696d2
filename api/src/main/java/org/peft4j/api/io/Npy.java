package org.peft4j.api.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.peft4j.api.PeftException;

/** NumPy's {@code .npy} (one array) and {@code .npz} (a zip of them), C order, little-endian. */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=])(\\w\\d+)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Npy() {}

    /** Reads one {@code .npy} file into {@code manager}. */
    public static NDArray read(Path path, NDManager manager) {
        try (InputStream in = Files.newInputStream(path)) {
            return read(in, path.toString(), manager);
        } catch (NoSuchFileException e) {
            throw new PeftException("file not found: " + path);
        } catch (IOException e) {
            throw new PeftException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Reads every array of an {@code .npz} file (names without {@code .npy}) into {@code manager}. */
    public static Map<String, NDArray> readNpz(Path path, NDManager manager) {
        if (!Files.exists(path)) {
            throw new PeftException("file not found: " + path);
        }
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                String name = arrayName(entry);
                try (InputStream in = zip.getInputStream(entry)) {
                    NDArray array = read(in, path + "!" + entry.getName(), manager);
                    array.setName(name);
                    arrays.put(name, array);
                }
            }
        } catch (IOException e) {
            throw new PeftException("cannot read " + path + " as .npz: " + e.getMessage(), e);
        }
        return arrays;
    }

    /** Writes one array as {@code .npy} (version 1.0), atomically. */
    public static void write(Path path, NDArray array) throws IOException {
        String descr = switch (array.getDataType()) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case INT64 -> "<i8";
            case INT32 -> "<i4";
            case UINT8 -> "|u1";
            case INT8 -> "|i1";
            case BOOLEAN -> "|b1";
            default -> throw new IllegalArgumentException("cannot write " + array.getDataType() + " as .npy");
        };
        long[] dims = array.getShape().getShape();
        String shape = dims.length == 1 ? "(" + dims[0] + ",)" : Arrays.toString(dims).replace('[', '(').replace(']', ')');
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }");
        int total = MAGIC.length + 2 + 2 + header.length() + 1;
        while (total % 64 != 0) {
            header.append(' ');
            total++;
        }
        header.append('\n');
        byte[] headerBytes = header.toString().getBytes(StandardCharsets.US_ASCII);
        AtomicFiles.write(path, out -> {
            out.write(MAGIC);
            out.write(new byte[] {1, 0});
            out.write(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) headerBytes.length).array());
            out.write(headerBytes);
            writeData(out, array);
        });
    }

    /** The array's raw little-endian bytes (also the data section of safetensors). */
    static void writeData(OutputStream out, NDArray array) throws IOException {
        ByteBuffer data = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] chunk = new byte[1 << 16];
        while (data.hasRemaining()) {
            int n = Math.min(chunk.length, data.remaining());
            data.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    /** The dtype, shape and order an {@code .npy} header declares. */
    public record Header(String dtype, Shape shape, boolean fortranOrder) {}

    /** The header of every array of an {@code .npz} file (names without {@code .npy}), without reading the data. */
    public static Map<String, Header> npzHeaders(Path path) {
        if (!Files.exists(path)) {
            throw new PeftException("file not found: " + path);
        }
        Map<String, Header> headers = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(path.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                try (InputStream in = zip.getInputStream(entry)) {
                    headers.put(arrayName(entry), parse(in, path + "!" + entry.getName()).header());
                }
            }
        } catch (IOException e) {
            throw new PeftException("cannot read " + path + " as .npz: " + e.getMessage(), e);
        }
        return headers;
    }

    /** The header of an {@code .npy} file, without reading its data. */
    public static Header header(Path path) {
        try (InputStream in = Files.newInputStream(path)) {
            return parse(in, path.toString()).header();
        } catch (NoSuchFileException e) {
            throw new PeftException("file not found: " + path);
        } catch (IOException e) {
            throw new PeftException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    private static String arrayName(ZipEntry entry) {
        return entry.getName().endsWith(".npy") ? entry.getName().substring(0, entry.getName().length() - 4) : entry.getName();
    }

    /** A parsed header and the element type its data is read as. */
    private record Parsed(Header header, TensorType type) {}

    private static Parsed parse(InputStream in, String where) throws IOException {
        byte[] magic = in.readNBytes(6);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new PeftException(where + " is not a .npy array (bad magic)");
        }
        int major = in.read();
        in.read();
        int headerLength;
        if (major == 1) {
            byte[] len = in.readNBytes(2);
            headerLength = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getShort() & 0xffff;
        } else {
            byte[] len = in.readNBytes(4);
            headerLength = ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }
        String header = new String(in.readNBytes(headerLength), StandardCharsets.ISO_8859_1);
        Matcher descr = DESCR.matcher(header);
        Matcher fortran = FORTRAN.matcher(header);
        Matcher shapeMatch = SHAPE.matcher(header);
        if (!descr.find() || !fortran.find() || !shapeMatch.find()) {
            throw new PeftException(where + ": cannot parse .npy header " + header.trim());
        }
        if (descr.group(1).equals(">")) {
            throw new PeftException(where + ": big-endian arrays are not supported");
        }
        TensorType type = switch (descr.group(2)) {
            case "f4" -> TensorType.F32;
            case "f8" -> TensorType.F64;
            case "f2" -> TensorType.F16;
            case "i8" -> TensorType.I64;
            case "i4" -> TensorType.I32;
            case "i1" -> TensorType.I8;
            case "u1" -> TensorType.U8;
            case "b1" -> TensorType.BOOL;
            default -> throw new PeftException(where + ": unsupported dtype " + descr.group(2));
        };
        String[] parts = shapeMatch.group(1).split(",");
        long[] dims = Arrays.stream(parts).map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        return new Parsed(new Header(descr.group(2), new Shape(dims), fortran.group(1).equals("True")), type);
    }

    private static NDArray read(InputStream in, String where, NDManager manager) throws IOException {
        Parsed parsed = parse(in, where);
        TensorType type = parsed.type();
        Shape shape = parsed.header().shape();
        long[] dims = shape.getShape();
        long bytes = shape.size() * type.bytes;
        ByteArrayOutputStream data = new ByteArrayOutputStream((int) Math.min(bytes, Integer.MAX_VALUE));
        in.transferTo(data);
        if (data.size() < bytes) {
            throw new PeftException(where + ": expected " + bytes + " bytes of data for shape " + shape + ", found " + data.size());
        }
        ByteBuffer raw = ByteBuffer.wrap(data.toByteArray(), 0, (int) bytes);
        DataType dataType = type.loadedAs;
        if (!parsed.header().fortranOrder() || dims.length < 2) {
            return manager.create(type.toLoadable(raw), shape, dataType);
        }
        // column-major data is the row-major array of the reversed shape, transposed
        long[] reversed = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            reversed[i] = dims[dims.length - 1 - i];
        }
        NDArray stored = manager.create(type.toLoadable(raw), new Shape(reversed), dataType);
        NDArray array = stored.transpose().duplicate();
        stored.close();
        return array;
    }
}
