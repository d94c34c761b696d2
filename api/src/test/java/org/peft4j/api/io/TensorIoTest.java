package org.peft4j.api.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;

class TensorIoTest {

    @TempDir Path dir;

    @Test
    void safetensorsRoundTripKeepsNamesWithDotsShapesAndValues() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put("blocks.0.attn.qkv.weight", m.randomNormal(new Shape(6, 2)));
            tensors.put("cls_token", m.randomNormal(new Shape(1, 1, 2)));
            tensors.put("index", m.arange(0L, 5L).reshape(5));
            Path file = dir.resolve("t.safetensors");
            Safetensors.write(file, tensors, Map.of("format", "pt", "method", "lora \"q,v\""));
            assertThat(Safetensors.metadata(file)).containsExactlyInAnyOrderEntriesOf(
                    Map.of("format", "pt", "method", "lora \"q,v\""));
            Map<String, NDArray> back = Safetensors.read(file, m);
            assertThat(back.keySet()).containsExactlyInAnyOrderElementsOf(tensors.keySet());
            for (var e : tensors.entrySet()) {
                assertThat(back.get(e.getKey()).contentEquals(e.getValue())).as(e.getKey()).isTrue();
            }
        }
    }

    @Test
    void sameTensorsAndMetadataGiveTheSameBytesWhateverTheMapOrder() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put("w", m.arange(0f, 6f).reshape(2, 3));
            Map<String, String> forward = new LinkedHashMap<>();
            Map<String, String> backward = new LinkedHashMap<>();
            for (String k : new String[] {"method", "backbone", "dataset", "seed", "a<b&c"}) {
                forward.put(k, k + "-value \"quoted\"");
            }
            for (String k : new String[] {"a<b&c", "seed", "dataset", "backbone", "method"}) {
                backward.put(k, k + "-value \"quoted\"");
            }
            Path a = dir.resolve("a.safetensors");
            Path b = dir.resolve("b.safetensors");
            Safetensors.write(a, tensors, forward);
            Safetensors.write(b, tensors, backward);
            assertThat(Files.readAllBytes(a)).isEqualTo(Files.readAllBytes(b));
            assertThat(Safetensors.metadata(a)).isEqualTo(forward);
            // the header is plain JSON other tools read: sorted metadata first, no HTML escapes
            String header = new String(Files.readAllBytes(a), StandardCharsets.UTF_8);
            assertThat(header).contains("{\"__metadata__\":{\"a<b&c\":\"a<b&c-value \\\"quoted\\\"\",\"backbone\"");
        }
    }

    @Test
    void headerEntriesOfTheWrongShapeAreRefusedWithoutReadingData() throws IOException {
        Path file = dir.resolve("bad.safetensors");
        byte[] h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}".getBytes(StandardCharsets.UTF_8);
        Files.write(file, ByteBuffer.allocate(8 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h).array());
        assertThatThrownBy(() -> Safetensors.header(file)).isInstanceOf(PeftException.class)
                .hasMessageContaining("tensor a has 8 bytes, but shape (3) of F32 needs 12");
        Path odd = dir.resolve("odd.safetensors");
        byte[] o = "{\"a\":{\"dtype\":\"F32\",\"shape\":\"3\",\"data_offsets\":[0,4]}}".getBytes(StandardCharsets.UTF_8);
        Files.write(odd, ByteBuffer.allocate(8 + o.length + 4).order(ByteOrder.LITTLE_ENDIAN).putLong(o.length).put(o).array());
        assertThatThrownBy(() -> Safetensors.header(odd)).isInstanceOf(PeftException.class)
                .hasMessageContaining("bad header entry for tensor a");
    }

    @Test
    void halfPrecisionTensorsAreWidenedToFloat32() throws IOException {
        // F16: 1.0 = 0x3c00, -2.5 = 0xc100; BF16: 1.0 = 0x3f80, 0.15625 = 0x3e20
        String header = "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[4,8]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(h.length).put(h).putShort((short) 0x3c00).putShort((short) 0xc100)
                .putShort((short) 0x3f80).putShort((short) 0x3e20);
        Path file = dir.resolve("half.safetensors");
        Files.write(file, buf.array());
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = Safetensors.read(file, m);
            assertThat(t.get("a").getDataType()).isEqualTo(DataType.FLOAT32);
            assertThat(t.get("a").toFloatArray()).containsExactly(1.0f, -2.5f);
            assertThat(t.get("b").toFloatArray()).containsExactly(1.0f, 0.15625f);
        }
        assertThat(TensorType.halfToFloat((short) 0x0001)).isEqualTo(5.9604645e-8f);
        assertThat(TensorType.halfToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
    }

    @Test
    void truncatedOrForeignFilesGiveClearErrors() throws IOException {
        Path junk = dir.resolve("junk.safetensors");
        Files.writeString(junk, "hello world, not tensors");
        try (NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> Safetensors.read(junk, m)).isInstanceOf(PeftException.class)
                    .hasMessageContaining("not a safetensors file");
            assertThatThrownBy(() -> Safetensors.read(dir.resolve("missing.safetensors"), m))
                    .hasMessageContaining("not found").hasMessageContaining("missing.safetensors");
        }
    }

    @Test
    void npyRoundTrip() throws IOException {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.randomNormal(new Shape(2, 3, 4, 4));
            Path file = dir.resolve("x.npy");
            Npy.write(file, a);
            NDArray back = Npy.read(file, m);
            assertThat(back.getShape()).isEqualTo(a.getShape());
            assertThat(back.contentEquals(a)).isTrue();
            NDArray v = m.create(new float[] {1, 2, 3});
            Npy.write(file, v);
            assertThat(Npy.read(file, m).toFloatArray()).containsExactly(1, 2, 3);
        }
    }
}
