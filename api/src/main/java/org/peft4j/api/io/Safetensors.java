package org.peft4j.api.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
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
import java.util.TreeMap;
import org.peft4j.api.PeftException;

/**
 * Reads and writes the safetensors format (8-byte little-endian header length, JSON header, raw
 * little-endian data), as timm and HF write it; the header is read and written with Gson. F16 and BF16 tensors are
 * widened to float32 in Java.
 */
public final class Safetensors {

    /** One tensor's entry in the header. */
    public record Entry(String name, String dtype, Shape shape, long begin, long end) {}

    private static final String METADATA = "__metadata__";
    /** Compact, and no HTML escaping: names like {@code a<b} stay readable for other tools. */
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();

    private Safetensors() {}

    /**
     * The header entries, without reading any tensor data; every entry is checked (known dtype, byte length
     * matching its shape, inside the file), so a file that passes loads.
     */
    public static List<Entry> header(Path path) {
        return readHeader(path).entries;
    }

    /** The string metadata of the file's header ({@code __metadata__}), empty if it has none. */
    public static Map<String, String> metadata(Path path) {
        return readHeader(path).metadata;
    }

    private static Header readHeader(Path path) {
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return parseHeader(path, channel);
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
                TensorType type = TensorType.valueOf(entry.dtype);
                long length = entry.end - entry.begin;
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

    /**
     * Writes the tensors (in the given order) atomically, with optional string metadata. The metadata keys are
     * written sorted, so the same tensors and metadata always give the same bytes whatever map the caller used.
     */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata)
            throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            new TreeMap<>(metadata).forEach(meta::addProperty);
            header.add(METADATA, meta);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray array = e.getValue();
            TensorType type = TensorType.of(array.getDataType());
            long bytes = array.size() * type.bytes;
            JsonArray shape = new JsonArray();
            for (long dim : array.getShape().getShape()) {
                shape.add(dim);
            }
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            JsonObject info = new JsonObject();
            info.addProperty("dtype", type.name());
            info.add("shape", shape);
            info.add("data_offsets", offsets);
            header.add(e.getKey(), info);
            offset += bytes;
        }
        byte[] headerBytes = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (headerBytes.length + 7) / 8 * 8; // data starts 8-byte aligned
        AtomicFiles.write(path, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(length.array());
            out.write(headerBytes);
            for (int i = headerBytes.length; i < padded; i++) {
                out.write(' ');
            }
            for (NDArray array : tensors.values()) {
                Npy.writeData(out, array);
            }
        });
    }

    private record Header(List<Entry> entries, Map<String, String> metadata, long dataStart) {}

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
        long dataLength = fileSize - 8 - headerLength;
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        String current = "the header";
        try {
            JsonObject root = JsonParser.parseString(json).getAsJsonObject();
            for (Map.Entry<String, JsonElement> e : root.entrySet()) {
                current = e.getKey().equals(METADATA) ? METADATA : "tensor " + e.getKey();
                JsonObject info = e.getValue().getAsJsonObject();
                if (e.getKey().equals(METADATA)) {
                    info.entrySet().forEach(m -> metadata.put(m.getKey(), m.getValue().getAsString()));
                    continue;
                }
                JsonArray shapeList = info.getAsJsonArray("shape");
                long[] dims = new long[shapeList.size()];
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = shapeList.get(i).getAsLong();
                }
                JsonArray offsets = info.getAsJsonArray("data_offsets");
                long begin = offsets.get(0).getAsLong();
                long end = offsets.get(1).getAsLong();
                if (begin < 0 || end < begin || end > dataLength) {
                    throw new PeftException(path + ": tensor " + e.getKey() + " lies outside the file (truncated?)");
                }
                Entry entry = new Entry(e.getKey(), info.get("dtype").getAsString(), new Shape(dims), begin, end);
                TensorType type = type(path, entry);
                if (end - begin != entry.shape.size() * type.bytes) {
                    throw new PeftException(path + ": tensor " + entry.name + " has " + (end - begin) + " bytes, but shape "
                            + entry.shape + " of " + entry.dtype + " needs " + entry.shape.size() * type.bytes);
                }
                entries.add(entry);
            }
        } catch (JsonParseException e) {
            throw new PeftException(path + " is not a safetensors file (bad header: " + e.getMessage() + ")");
        } catch (ClassCastException | IllegalStateException | UnsupportedOperationException | NullPointerException
                | IndexOutOfBoundsException | NumberFormatException e) {
            throw new PeftException(path + " is not a safetensors file (bad header entry for " + current
                    + ": expected {\"dtype\", \"shape\", \"data_offsets\"})");
        }
        entries.sort(Comparator.comparingLong(Entry::begin));
        return new Header(entries, metadata, 8 + headerLength);
    }

    private static TensorType type(Path path, Entry entry) {
        try {
            return TensorType.valueOf(entry.dtype);
        } catch (IllegalArgumentException e) {
            throw new PeftException(path + ": tensor " + entry.name + " has unsupported dtype " + entry.dtype);
        }
    }
}
