package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where one Swin block's attention windows lie, and the constant tensors that follow from it, computed in
 * Java (checkpoint buffers are never loaded): the relative position index and the shifted-window mask.
 *
 * <p>As timm's {@code _calc_window_shift}: a feature map no larger than the target window is attended as one
 * window (the window is clipped to the map) and then never shifted.
 */
final class WindowGeometry {

    /** timm's additive mask value for token pairs from different regions of a shifted window. */
    static final float MASKED = -100f;

    private final int resolution;
    private final int window;
    private final int shift;
    private final long[] relativeIndex;
    private final Map<Long, float[]> masks = new ConcurrentHashMap<>();

    private WindowGeometry(int resolution, int window, int shift) {
        this.resolution = resolution;
        this.window = window;
        this.shift = shift;
        this.relativeIndex = relativePositionIndex(window);
    }

    /**
     * @param resolution the stage's feature map side as timm books it (grid size halved, rounded down, per merge)
     * @param targetWindow the model's window size
     * @param shifted whether this block is an odd (shifted-window) block
     */
    static WindowGeometry of(int resolution, int targetWindow, boolean shifted) {
        int window = Math.min(resolution, targetWindow);
        int shift = shifted && resolution > window ? targetWindow / 2 : 0;
        return new WindowGeometry(resolution, window, shift);
    }

    int resolution() {
        return resolution;
    }

    int window() {
        return window;
    }

    int shift() {
        return shift;
    }

    /** Tokens per window. */
    int area() {
        return window * window;
    }

    /** Rows of the relative position bias table, {@code (2w-1)^2}. */
    int tableSize() {
        return (2 * window - 1) * (2 * window - 1);
    }

    /**
     * timm's {@code get_relative_position_index}: entry {@code [i, j]} (row-major over the window's tokens)
     * is the table row of the offset from token j to token i.
     */
    static long[] relativePositionIndex(int window) {
        int n = window * window;
        long[] index = new long[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int dh = i / window - j / window + window - 1;
                int dw = i % window - j % window + window - 1;
                index[i * n + j] = (long) dh * (2 * window - 1) + dw;
            }
        }
        return index;
    }

    long[] relativePositionIndex() {
        return relativeIndex.clone();
    }

    /**
     * Flat indices into a {@code [table, heads]} table that gather the bias as {@code [heads, N, N]} in one
     * {@code take} (whose result lands in {@code manager}, the batch's).
     */
    NDArray biasGatherIndex(NDManager manager, int heads) {
        int nn = relativeIndex.length;
        long[] flat = new long[heads * nn];
        for (int h = 0; h < heads; h++) {
            for (int k = 0; k < nn; k++) {
                flat[h * nn + k] = relativeIndex[k] * heads + h;
            }
        }
        return manager.create(flat, new Shape(heads, area(), area()));
    }

    /**
     * timm's shifted-window attention mask for a padded map of {@code paddedH x paddedW}: {@code [nW, N, N]}
     * (windows row-major), 0 where both tokens come from the same region of the rolled map, -100 otherwise.
     */
    float[] mask(int paddedH, int paddedW) {
        return masks.computeIfAbsent(((long) paddedH << 32) | paddedW, k -> computeMask(paddedH, paddedW)).clone();
    }

    private float[] computeMask(int paddedH, int paddedW) {
        int[] rowRegion = regions(paddedH);
        int[] colRegion = regions(paddedW);
        int perRow = paddedW / window;
        int windows = (paddedH / window) * perRow;
        int n = area();
        float[] mask = new float[windows * n * n];
        int[] ids = new int[n];
        for (int win = 0; win < windows; win++) {
            int top = (win / perRow) * window;
            int left = (win % perRow) * window;
            for (int t = 0; t < n; t++) {
                ids[t] = rowRegion[top + t / window] * 3 + colRegion[left + t % window];
            }
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    mask[(win * n + i) * n + j] = ids[i] == ids[j] ? 0f : MASKED;
                }
            }
        }
        return mask;
    }

    /** Region of each position along one axis: slices {@code [0, -w)}, {@code [-w, -s)}, {@code [-s, end)}. */
    private int[] regions(int size) {
        int[] region = new int[size];
        for (int p = 0; p < size; p++) {
            region[p] = p < size - window ? 0 : p < size - shift ? 1 : 2;
        }
        return region;
    }
}
