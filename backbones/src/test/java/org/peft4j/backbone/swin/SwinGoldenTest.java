package org.peft4j.backbone.swin;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/** Swin against timm 1.0.29 (fixtures by tools/fixtures/make_swin_fixtures.py). */
class SwinGoldenTest {

    static final String MICRO = "swin_micro_patch4_window4_32";
    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    @Test
    void timmSafetensorsReproduceTimmLogitsAndFeatures() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
            assertThat(report.loaded()).isEqualTo(model.parameters().size()).isEqualTo(92);
            assertGolden(model, MICRO, m);
        }
    }

    @Test
    void paddedWindowsAndOddPatchMergingMatchTimmAt40Pixels() {
        // 40 px: maps 10 and 5 are padded to whole windows (shifted ones too); stage 2 merges an odd map of 5
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10).withImageSize(40), m);
            CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
            assertGolden(model, MICRO + ".at40", m);
        }
    }

    @Test
    void officialMicrosoftLayoutLoadsToTheSameLogits() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            // strict: the buffers (relative_position_index, attn_mask) are dropped, every other key is renamed
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(MICRO + ".official.safetensors"), true);
            assertThat(report.loaded()).isEqualTo(model.parameters().size());
            assertThat(report.unexpected()).isEmpty();
            assertThat(report.headReplaced()).isEmpty();
            assertGolden(model, MICRO, m);
        }
    }

    static void assertGolden(Backbone model, String name, NDManager m) {
        NDArray logits = Golden.logits(model, name, m);
        NDArray features = Golden.features(model, name, m);
        assertThat(Golden.relativeError(logits, Golden.expected(name + ".logits.npy", m))).isLessThanOrEqualTo(1e-4);
        assertThat(Golden.relativeError(features, Golden.expected(name + ".features.npy", m))).isLessThanOrEqualTo(1e-4);
    }
}
