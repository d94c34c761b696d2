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
