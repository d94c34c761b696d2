package org.peft4j.backbone.swin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.Safetensors;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/** Key conversion of timm and official Microsoft Swin checkpoints. */
class SwinCheckpointTest {

    private static final String MICRO = SwinGoldenTest.MICRO;
    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    @Test
    void officialKeysMoveDownsampleToTheNextStageAndTheHeadUnderFc() {
        assertThat(SwinCheckpoint.officialToTimm("layers.0.downsample.reduction.weight")).isEqualTo("layers.1.downsample.reduction.weight");
        assertThat(SwinCheckpoint.officialToTimm("layers.2.downsample.norm.bias")).isEqualTo("layers.3.downsample.norm.bias");
        assertThat(SwinCheckpoint.officialToTimm("head.weight")).isEqualTo("head.fc.weight");
        assertThat(SwinCheckpoint.officialToTimm("layers.1.blocks.0.attn.qkv.weight")).isEqualTo("layers.1.blocks.0.attn.qkv.weight");
        assertThat(SwinCheckpoint.officialToTimm("norm.weight")).isEqualTo("norm.weight");
    }

    @Test
    void convertedOfficialFileHasExactlyTheTimmKeysAndShapes() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            Map<String, NDArray> timm = model.convertCheckpoint(Safetensors.read(Golden.fixture(MICRO + ".safetensors"), m), m);
            Map<String, NDArray> official = model.convertCheckpoint(
                    Safetensors.read(Golden.fixture(MICRO + ".official.safetensors"), m), m);
            assertThat(official.keySet()).containsExactlyInAnyOrderElementsOf(model.parameters().keySet());
            assertThat(timm.keySet()).containsExactlyInAnyOrderElementsOf(model.parameters().keySet());
            assertThat(official.get("patch_embed.proj.weight").getShape()).isEqualTo(new Shape(16, 48));
            for (String key : timm.keySet()) {
                assertThat(official.get(key).sub(timm.get(key)).abs().max().getFloat()).as(key).isZero();
            }
        }
    }

    @Test
    void aHeadlessTimmCheckpointIsNotMistakenForTheOfficialLayout() {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> headless = new LinkedHashMap<>(Safetensors.read(Golden.fixture(MICRO + ".safetensors"), m));
            headless.remove("head.fc.weight");
            headless.remove("head.fc.bias");
            assertThat(SwinCheckpoint.isOfficialLayout(headless)).isFalse();
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 3), m);
            CheckpointLoader.Report report = CheckpointLoader.copy(model, model.convertCheckpoint(headless, m), "headless", true);
            assertThat(report.loaded()).isEqualTo(90);
            assertThat(report.headReplaced()).containsExactlyInAnyOrder("head.fc.weight", "head.fc.bias");
        }
    }

    @Test
    void aBiasTableForAnotherWindowNamesTheTensorAndBothWindows() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            Map<String, NDArray> tensors = new LinkedHashMap<>(Safetensors.read(Golden.fixture(MICRO + ".safetensors"), m));
            tensors.put("layers.0.blocks.0.attn.relative_position_bias_table", m.zeros(new Shape(169, 2)));
            assertThatThrownBy(() -> model.convertCheckpoint(tensors, m))
                    .isInstanceOf(PeftException.class)
                    .hasMessageContaining("layers.0.blocks.0.attn.relative_position_bias_table")
                    .hasMessageContaining("window 7")
                    .hasMessageContaining("window 4");
        }
    }
}
