package org.peft4j.backbone.swin;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.io.Safetensors;
import org.peft4j.backbone.Golden;

/** Window placement, relative position index and shift mask, checked against timm's own buffers. */
class SwinGeometryTest {

    @Test
    void windowsAreShiftedOnOddBlocksAndClippedToSmallMapsAsTimmDoes() {
        try (NDManager m = NDManager.newBaseManager()) {
            SwinTransformer micro = (SwinTransformer) new SwinProvider().build(BackboneOptions.of(SwinGoldenTest.MICRO, 10), m);
            // maps 8, 4, 2 with window 4: shifted stage 0; stage 1 is one window, never shifted; stage 2 clipped to 2
            assertThat(micro.geometries().stream().map(g -> List.of(g.resolution(), g.window(), g.shift())).toList())
                    .containsExactly(List.of(8, 4, 0), List.of(8, 4, 2), List.of(4, 4, 0), List.of(4, 4, 0),
                            List.of(2, 2, 0), List.of(2, 2, 0));
            assertThat(micro.parameters().get("layers.2.blocks.0.attn.relative_position_bias_table").getShape())
                    .isEqualTo(new ai.djl.ndarray.types.Shape(9, 8));
        }
    }

    @Test
    void relativePositionIndexAndShiftMaskEqualTimmBuffers() {
        // the official-layout fixture carries timm's relative_position_index and attn_mask buffers
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> official = Safetensors.read(Golden.fixture(SwinGoldenTest.MICRO + ".official.safetensors"), m);
            SwinTransformer micro = (SwinTransformer) new SwinProvider().build(BackboneOptions.of(SwinGoldenTest.MICRO, 10), m);
            List<WindowGeometry> geometries = micro.geometries();
            int[] perStage = {2, 2, 2};
            int block = 0;
            int masks = 0;
            for (int s = 0; s < perStage.length; s++) {
                for (int b = 0; b < perStage[s]; b++, block++) {
                    WindowGeometry g = geometries.get(block);
                    String prefix = "layers." + s + ".blocks." + b + ".";
                    assertThat(g.relativePositionIndex()).isEqualTo(official.get(prefix + "attn.relative_position_index").toLongArray());
                    NDArray timmMask = official.get(prefix + "attn_mask");
                    assertThat(timmMask != null).as(prefix + " has a mask").isEqualTo(g.shift() > 0);
                    if (timmMask != null) {
                        int padded = (g.resolution() + g.window() - 1) / g.window() * g.window();
                        assertThat(g.mask(padded, padded)).containsExactly(timmMask.toFloatArray());
                        masks++;
                    }
                }
            }
            assertThat(masks).isEqualTo(1);
        }
    }

    @Test
    void maskSeparatesTheWrappedRegionsOfTheLastWindowRowAndColumn() {
        WindowGeometry g = WindowGeometry.of(8, 4, true); // shift 2: four 4x4 windows, 16 tokens each
        float[] mask = g.mask(8, 8);
        int n = 16;
        assertThat(mask).hasSize(4 * n * n);
        // window 0 lies inside region 0: nothing masked
        for (int k = 0; k < n * n; k++) {
            assertThat(mask[k]).isZero();
        }
        // window 3 (bottom right) holds four 2x2 regions: token 0 (row 0, col 0) sees 4 of 16 tokens
        int seen = 0;
        for (int j = 0; j < n; j++) {
            seen += mask[(3 * n) * n + j] == 0f ? 1 : 0;
        }
        assertThat(seen).isEqualTo(4);
        assertThat(mask[(3 * n) * n + 2]).isEqualTo(WindowGeometry.MASKED); // (0, 2) is in the wrapped columns
    }
}
