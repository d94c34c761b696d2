package org.peft4j.backbone.swin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peft4j.backbone.Sites.attach;
import static org.peft4j.backbone.Sites.logits;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.testing.Capture;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/**
 * Prompts on Swin (VPT's Swin variant): inserted at a TOKENS site, prepended to every attention window of their
 * sample, averaged over the windows, carried through the MLPs, norms and patch merges, and averaged with the patches
 * before the head only when asked.
 */
class SwinPromptsTest {

    private static final String MICRO = SwinGoldenTest.MICRO; // 8x8 map, windows of 4; then 4x4 and 2x2
    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();
    private static final int P = 3;

    private static Backbone prompted(NDManager m) {
        Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
        CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
        Engine.getInstance().setRandomSeed(3);
        attach(model, "layers.0.blocks.0", new Prompts(P, 16));
        return model;
    }



    @ParameterizedTest(name = "block {0}")
    @ValueSource(ints = {0, 1})
    void eachWindowAttendsToItsSamplesPromptsAndThePromptsAverageOverTheWindows(int block) {
        // block 0: four 4x4 windows of the 8x8 map; block 1: the same after a cyclic shift by 2, with timm's mask
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = prompted(m);
            String prefix = "layers.0.blocks." + block;
            Capture norm1 = attach(model, prefix + ".norm1", new Capture());
            Capture attn = attach(model, prefix + ".attn", new Capture());
            logits(model, m.randomNormal(new Shape(2, 3, 32, 32)), false);
            NDArray normed = norm1.output(); // [B, P + 64, 16]: the 8x8 map row-major after the prompts
            assertThat(normed.getShape()).isEqualTo(new Shape(2, P + 64, 16));

            // the reference: plain attention over [prompts, window tokens] for each window, relative position bias
            // and shift mask on token pairs only; prompt outputs averaged over the windows
            int shift = block == 1 ? 2 : 0;
            float[] mask = shift > 0 ? WindowGeometry.of(8, 4, true).mask(8, 8) : null;
            NDArray map = ChannelsLast.roll(ChannelsLast.roll(normed.get(":, " + P + ":, :").reshape(2, 8, 8, 16), -shift, 1), -shift, 2);
            NDArray expectedPrompts = null;
            NDArray expectedMap = m.zeros(new Shape(2, 8, 8, 16));
            for (int win = 0; win < 4; win++) {
                int r = 4 * (win / 2);
                int c = 4 * (win % 2);
                NDArray window = map.get(":, " + r + ":" + (r + 4) + ", " + c + ":" + (c + 4) + ", :").reshape(2, 16, 16);
                NDArray out = attention(normed.get(":, :" + P + ", :").concat(window, 1), model.parameters(), prefix, mask, win);
                NDArray prompts = out.get(":, :" + P + ", :").div(4f);
                expectedPrompts = expectedPrompts == null ? prompts : expectedPrompts.add(prompts);
                expectedMap.set(new NDIndex(":, {}:{}, {}:{}, :", r, r + 4, c, c + 4), out.get(":, " + P + ":, :").reshape(2, 4, 4, 16));
            }
            expectedMap = ChannelsLast.roll(ChannelsLast.roll(expectedMap, shift, 1), shift, 2);
            NDArray expected = expectedPrompts.concat(expectedMap.reshape(2, 64, 16), 1);
            assertThat(attn.output().getShape()).isEqualTo(new Shape(2, P + 64, 16));
            assertThat(attn.output().sub(expected).abs().max().getFloat()).isLessThan(1e-5f);
        }
    }

    /**
     * timm's window attention (2 heads, 4x4 window) over one window's tokens {@code [B, P + 16, C]} whose first P are
     * prompts: relative position bias and, for window {@code win} of a shifted block, the mask on token pairs only.
     */
    private static NDArray attention(NDArray tokens, Map<String, Parameter> p, String block, float[] mask, int win) {
        String a = block + ".attn.";
        int heads = 2;
        long b = tokens.getShape().get(0);
        int n = (int) tokens.getShape().get(1);
        int dim = (int) tokens.getShape().get(2);
        int dh = dim / heads;
        NDArray qkv = tokens.matMul(p.get(a + "qkv.weight").getArray().transpose()).add(p.get(a + "qkv.bias").getArray())
                .reshape(b, n, 3, heads, dh).transpose(2, 0, 3, 1, 4);
        NDArray scores = qkv.get(0).mul((float) Math.pow(dh, -0.5)).matMul(qkv.get(1).transpose(0, 1, 3, 2));
        float[] table = p.get(a + "relative_position_bias_table").getArray().toFloatArray();
        long[] index = WindowGeometry.relativePositionIndex(4);
        int area = 16;
        float[] bias = new float[heads * n * n];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < area; i++) {
                for (int j = 0; j < area; j++) {
                    float masked = mask == null ? 0f : mask[(win * area + i) * area + j];
                    bias[(h * n + P + i) * n + P + j] = table[(int) index[i * area + j] * heads + h] + masked;
                }
            }
        }
        scores = scores.add(tokens.getManager().create(bias, new Shape(heads, n, n)));
        NDArray out = scores.softmax(-1).matMul(qkv.get(2)).transpose(0, 2, 1, 3).reshape(b, n, dim);
        return out.matMul(p.get(a + "proj.weight").getArray().transpose()).add(p.get(a + "proj.bias").getArray());
    }

    @Test
    void promptsRideThroughTheMergesAndEverySampleIsAttendedOnItsOwn() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = prompted(m);
            Capture stage1 = attach(model, "layers.1.blocks.0", new Capture());
            Capture stage2 = attach(model, "layers.2.blocks.1", new Capture());
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            NDArray both = logits(model, x, false);
            assertThat(stage1.input().getShape()).isEqualTo(new Shape(2, P + 16, 32)); // merged: 4 x 4 map, twice as wide
            assertThat(stage2.input().getShape()).isEqualTo(new Shape(2, P + 4, 64));
            // VPT's code hands windows prompts of other samples of the batch; here a sample's logits do not depend on it
            for (int i = 0; i < 2; i++) {
                NDArray alone = logits(model, x.get(i + ":" + (i + 1)), false);
                assertThat(alone.sub(both.get(i + ":" + (i + 1))).abs().max().getFloat()).isLessThan(1e-5f);
            }
            model.site("layers.0.blocks.0").orElseThrow().detach(model.site("layers.0.blocks.0").orElseThrow().adapters().get(0));
            assertThat(logits(model, x, false).sub(both).abs().max().getFloat()).isGreaterThan(1e-3f);
        }
    }

    @Test
    void fusedAndUnfusedAttentionAgreeWithPromptsInShiftedWindows() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = prompted(m);
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            NDArray fused = logits(model, x, false);
            ((SwinTransformer) model).useAttention(AttentionKernel.MATH);
            assertThat(logits(model, x, false).sub(fused).abs().max().getFloat()).isLessThan(1e-5f);
        }
    }

    @Test
    void promptsGetGradientsThroughShiftedWindowsAndMerges() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = prompted(m);
            Prompts prompts = (Prompts) model.site("layers.0.blocks.0").orElseThrow().adapters().get(0);
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                collector.backward(logits(model, x, true).square().sum());
            }
            NDArray grad = prompts.prompts.getArray().getGradient();
            for (int i = 0; i < P; i++) {
                assertThat(grad.get(i).abs().sum().getFloat()).as("prompt %d", i).isGreaterThan(0f);
            }
        }
    }

    @Test
    void theHeadAveragesThePatchesOrPatchesAndPromptsAfterTheFinalNorm() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = prompted(m);
            Capture norm = attach(model, "norm", new Capture());
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            NDArray features = model.features(new ParameterStore(m, false), x, false);
            assertThat(norm.output().getShape()).isEqualTo(new Shape(2, P + 4, 64));
            assertThat(features.sub(norm.output().get(":, " + P + ":, :").mean(new int[] {1})).abs().max().getFloat()).isLessThan(1e-6f);
            model.setPromptsPooled(true);
            features = model.features(new ParameterStore(m, false), x, false);
            assertThat(features.sub(norm.output().mean(new int[] {1})).abs().max().getFloat()).isLessThan(1e-6f);
        }
    }

    /** Inserts {@code count} learned prompts in front of the tokens (prefix 0), like VPT's first block. */
    static final class Prompts extends AdapterBlock {
        final Parameter prompts;
        private final int count;
        private final int dim;

        Prompts(int count, int dim) {
            super("prompts");
            this.count = count;
            this.dim = dim;
            this.prompts = param("prompts", new Shape(count, dim), Initializers.uniform(0.5));
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            NDArray batch = Ops.expandLike(value(store, prompts, output, training), output,
                    new Shape(output.getShape().get(0), count, dim));
            return batch.concat(output, 1);
        }
    }
}
