package org.peft4j.runner.data;

/**
 * Separable bicubic resize of interleaved 8-bit RGB, as PIL's {@code Image.resize(BICUBIC)} (a = -0.5, the
 * kernel widened by the scale when shrinking, i.e. antialiased), which is what the field's VTAB and FGVC
 * pipelines call through torchvision.
 */
public final class Resampler {

    private Resampler() {}

    /** Resizes {@code src} ({@code h x w x 3}) to {@code outH x outW x 3}. */
    public static byte[] resize(byte[] src, int h, int w, int outH, int outW) {
        if (h == outH && w == outW) {
            return src.clone();
        }
        float[] horizontal = pass(toFloat(src), h, w, outW, true);
        float[] both = pass(horizontal, h, outW, outH, false);
        byte[] out = new byte[both.length];
        for (int i = 0; i < both.length; i++) {
            out[i] = (byte) Math.max(0, Math.min(255, Math.round(both[i])));
        }
        return out;
    }

    private static float[] toFloat(byte[] src) {
        float[] f = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            f[i] = src[i] & 0xff;
        }
        return f;
    }

    /** One 1-D pass over rows (horizontal) or columns of an {@code h x w x 3} image. */
    private static float[] pass(float[] in, int h, int w, int outLen, boolean horizontal) {
        int inLen = horizontal ? w : h;
        double scale = (double) inLen / outLen;
        double filterScale = Math.max(scale, 1.0);
        double support = 2.0 * filterScale;
        int taps = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[outLen];
        int[] count = new int[outLen];
        double[] weights = new double[outLen * taps];
        for (int o = 0; o < outLen; o++) {
            double center = (o + 0.5) * scale;
            int lo = (int) Math.max(0, Math.floor(center - support + 0.5));
            int hi = (int) Math.min(inLen, Math.floor(center + support + 0.5));
            double total = 0;
            for (int i = lo; i < hi; i++) {
                double wgt = cubic((i - center + 0.5) / filterScale);
                weights[o * taps + i - lo] = wgt;
                total += wgt;
            }
            for (int i = lo; i < hi && total != 0; i++) {
                weights[o * taps + i - lo] /= total;
            }
            first[o] = lo;
            count[o] = hi - lo;
        }
        int outH = horizontal ? h : outLen;
        int outW = horizontal ? outLen : w;
        float[] out = new float[outH * outW * 3];
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                int o = horizontal ? x : y;
                for (int c = 0; c < 3; c++) {
                    double acc = 0;
                    for (int k = 0; k < count[o]; k++) {
                        int i = first[o] + k;
                        int idx = horizontal ? (y * w + i) * 3 + c : (i * w + x) * 3 + c;
                        acc += weights[o * taps + k] * in[idx];
                    }
                    out[(y * outW + x) * 3 + c] = (float) acc;
                }
            }
        }
        return out;
    }

    /** Keys' cubic convolution kernel with a = -0.5 (PIL's bicubic). */
    private static double cubic(double x) {
        double a = -0.5;
        x = Math.abs(x);
        if (x < 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        if (x < 2) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0;
    }
}
