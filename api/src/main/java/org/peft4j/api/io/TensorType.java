package org.peft4j.api.io;

import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Element types found in checkpoint files and how they become DJL arrays. Half precision (F16, BF16) is
 * widened to float32 in Java: creating BF16 arrays aborts the JVM inside DJL's JNI.
 */
enum TensorType {
    F32(4, DataType.FLOAT32),
    F64(8, DataType.FLOAT64),
    F16(2, DataType.FLOAT32),
    BF16(2, DataType.FLOAT32),
    I64(8, DataType.INT64),
    I32(4, DataType.INT32),
    I8(1, DataType.INT8),
    U8(1, DataType.UINT8),
    BOOL(1, DataType.BOOLEAN);

    final int bytes;
    final DataType loadedAs;

    TensorType(int bytes, DataType loadedAs) {
        this.bytes = bytes;
        this.loadedAs = loadedAs;
    }

    static TensorType of(DataType type) {
        return switch (type) {
            case FLOAT32 -> F32;
            case FLOAT64 -> F64;
            case INT64 -> I64;
            case INT32 -> I32;
            case INT8 -> I8;
            case UINT8 -> U8;
            case BOOLEAN -> BOOL;
            default -> throw new IllegalArgumentException("cannot store tensors of type " + type);
        };
    }

    /** Little-endian raw bytes of this type into a direct buffer of {@link #loadedAs}. */
    ByteBuffer toLoadable(ByteBuffer raw) {
        raw.order(ByteOrder.LITTLE_ENDIAN);
        if (this != F16 && this != BF16) {
            ByteBuffer copy = ByteBuffer.allocateDirect(raw.remaining()).order(ByteOrder.nativeOrder());
            if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN || bytes == 1) {
                copy.put(raw);
            } else {
                throw new UnsupportedOperationException("big-endian hosts are not supported");
            }
            return copy.flip();
        }
        int count = raw.remaining() / 2;
        ByteBuffer widened = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
        FloatBuffer floats = widened.asFloatBuffer();
        for (int i = 0; i < count; i++) {
            short half = raw.getShort();
            floats.put(this == BF16 ? Float.intBitsToFloat((half & 0xffff) << 16) : halfToFloat(half));
        }
        return widened;
    }

    /** IEEE 754 binary16 to float (Float.float16ToFloat arrives only in Java 20). */
    static float halfToFloat(short half) {
        int bits = half & 0xffff;
        int sign = (bits >>> 15) << 31;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // zero or subnormal
            return sign == 0 ? magnitude : -magnitude;
        }
        if (exponent == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }
}
