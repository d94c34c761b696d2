package org.peft4j.api.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.PeftException;

/**
 * Reads and writes the safetensors format (8-byte little-endian header length, JSON header, raw
 * little-endian data), as timm and HF write it. F16 and BF16 tensors are widened to float32 in Java.
 */
public final class Safetensors {

    /** One tensor's entry in the header. */
    public record Entry(String name, String dtype, Shape shape, long begin, long end) {}

    private Safetensors() {}

    /** The header entries, without reading any tensor data. */
    public static List<Entry> header(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return parseHeader(path, channel).entries;
        } catch (NoSuchFileException e) {
            throw new PeftException("safetensors file not found: " + path);
        } catch (IOException e) {
            throw new PeftException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** The file's string metadata ({@code __metadata__}), without reading any tensor data; empty if none. */
    public static Map<String, String> metadata(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return parseHeader(path, channel).metadata;
        } catch (NoSuchFileException e) {
            throw new PeftException("safetensors file not found: " + path);
        } catch (IOException e) {
            throw new PeftException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Every tensor of the file, created in {@code manager}, in file order. */
    public static Map<String, NDArray> read(Path path, NDManager manager) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            Header header = parseHeader(path, channel);
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (Entry entry : header.entries) {
                TensorType type = type(path, entry);
                long length = entry.end - entry.begin;
                if (length != entry.shape.size() * type.bytes) {
                    throw new PeftException(
                            path + ": tensor " + entry.name + " has " + length + " bytes, but shape "
                                    + entry.shape + " of " + entry.dtype + " needs "
                                    + entry.shape.size() * type.bytes);
                }
                ByteBuffer raw = channel.map(FileChannel.MapMode.READ_ONLY, header.dataStart + entry.begin, length);
                NDArray array = manager.create(type.toLoadable(raw), entry.shape, type.loadedAs);
                array.setName(entry.name);
                tensors.put(entry.name, array);
            }
            return tensors;
        } catch (NoSuchFileException e) {
            throw new PeftException("safetensors file not found: " + path);
        } catch (IOException e) {
            throw new PeftException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }

    /** Writes the tensors (in the given order) atomically, with optional string metadata. */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            List<String> parts = new ArrayList<>();
            metadata.forEach((k, v) -> parts.add(quote(k) + ":" + quote(v)));
            json.append(String.join(",", parts)).append("},");
        }
        long offset = 0;
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray array = e.getValue();
            TensorType type = TensorType.of(array.getDataType());
            long bytes = array.size() * type.bytes;
            StringBuilder shape = new StringBuilder("[");
            for (int i = 0; i < array.getShape().dimension(); i++) {
                shape.append(i == 0 ? "" : ",").append(array.getShape().get(i));
            }
            shape.append(']');
            parts.add(quote(e.getKey()) + ":{\"dtype\":\"" + type.name() + "\",\"shape\":" + shape
                    + ",\"data_offsets\":[" + offset + "," + (offset + bytes) + "]}");
            offset += bytes;
        }
        json.append(String.join(",", parts)).append('}');
        byte[] headerBytes = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8; // data starts 8-byte aligned
        AtomicFiles.write(path, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(length.array());
            out.write(headerBytes);
            for (int i = headerBytes.length; i < padded; i++) {
                out.write(' ');
            }
            for (NDArray array : tensors.values()) {
                writeData(out, array);
            }
        });
    }

    private static void writeData(OutputStream out, NDArray array) throws IOException {
        ByteBuffer data = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        byte[] chunk = new byte[1 << 16];
        while (data.hasRemaining()) {
            int n = Math.min(chunk.length, data.remaining());
            data.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
    }

    private record Header(List<Entry> entries, long dataStart, Map<String, String> metadata) {}

    private static Header parseHeader(Path path, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new PeftException(path + " is not a safetensors file (only " + fileSize + " bytes)");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        channel.read(lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        if (headerLength <= 0 || headerLength > Math.min(fileSize - 8, 100_000_000L)) {
            throw new PeftException(path + " is not a safetensors file (header length " + headerLength + ")");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        channel.read(headerBytes, 8);
        String json = new String(headerBytes.array(), StandardCharsets.UTF_8).trim();
        ConfigObject root;
        try {
            root = ConfigFactory.parseString(json, ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON)).root();
        } catch (ConfigException e) {
            throw new PeftException(path + " is not a safetensors file (bad header: " + e.getMessage() + ")");
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        long dataLength = fileSize - 8 - headerLength;
        for (Map.Entry<String, ConfigValue> e : root.entrySet()) {
            if (e.getKey().equals("__metadata__")) {
                ((ConfigObject) e.getValue()).forEach((k, v) -> metadata.put(k, String.valueOf(v.unwrapped())));
                continue;
            }
            ConfigObject info = (ConfigObject) e.getValue();
            ConfigList shapeList = (ConfigList) info.get("shape");
            long[] dims = new long[shapeList.size()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = ((Number) shapeList.get(i).unwrapped()).longValue();
            }
            ConfigList offsets = (ConfigList) info.get("data_offsets");
            long begin = ((Number) offsets.get(0).unwrapped()).longValue();
            long end = ((Number) offsets.get(1).unwrapped()).longValue();
            if (begin < 0 || end < begin || end > dataLength) {
                throw new PeftException(path + ": tensor " + e.getKey() + " lies outside the file (truncated?)");
            }
            entries.add(new Entry(e.getKey(), (String) info.get("dtype").unwrapped(), new Shape(dims), begin, end));
        }
        entries.sort(Comparator.comparingLong(Entry::begin));
        return new Header(entries, 8 + headerLength, metadata);
    }

    private static TensorType type(Path path, Entry entry) {
        try {
            return TensorType.valueOf(entry.dtype);
        } catch (IllegalArgumentException e) {
            throw new PeftException(path + ": tensor " + entry.name + " has unsupported dtype " + entry.dtype);
        }
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
