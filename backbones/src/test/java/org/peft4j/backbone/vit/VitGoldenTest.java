package org.peft4j.backbone.vit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

class VitGoldenTest {

    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    @ParameterizedTest
    @ValueSource(strings = {"vit_micro_patch4_32", "vit_micro_avg_ls_patch4_32"})
    void timmSafetensorsReproduceTimmLogitsAndFeatures(String name) {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(name, 10), m);
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(name + ".safetensors"), true);
            assertThat(report.loaded()).isEqualTo(model.parameters().size());
            assertThat(Golden.relativeError(Golden.logits(model, name, m), Golden.expected(name + ".logits.npy", m)))
                    .isLessThanOrEqualTo(1e-4);
            assertThat(Golden.relativeError(Golden.features(model, name, m), Golden.expected(name + ".features.npy", m)))
                    .isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void googleNpzLayoutLoadsToTheSameLogits() {
        String name = "vit_micro_patch4_32";
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(name, 10), m);
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(name + ".google.npz"), false);
            assertThat(report.unexpected()).containsExactlyInAnyOrder("pre_logits/bias", "pre_logits/kernel");
            assertThat(Golden.relativeError(Golden.logits(model, name, m), Golden.expected(name + ".logits.npy", m)))
                    .isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void headOfAnotherSizeIsReplacedAndPositionEmbeddingsAreResampled() {
        String name = "vit_micro_patch4_32";
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(name, 3).withImageSize(48), m);
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(name + ".safetensors"), true);
            assertThat(report.headReplaced()).hasSize(2);
            assertThat(model.parameters().get("pos_embed").getArray().getShape()).isEqualTo(new Shape(1, 1 + 144, 64));
            NDArray x = m.randomNormal(new Shape(1, 3, 48, 48));
            NDArray y = model.block().forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            assertThat(y.getShape()).isEqualTo(new Shape(1, 3));
        }
    }

    @Test
    void aCheckpointOfAnotherModelNamesTheTensorAndBothShapes() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of("vit_tiny_patch16_224", 10), m);
            Map<String, NDArray> wrong = Map.of("cls_token", m.zeros(new Shape(1, 1, 64)));
            assertThatThrownBy(() -> CheckpointLoader.copy(model, wrong, "x.safetensors", true))
                    .isInstanceOf(PeftException.class)
                    .hasMessageContaining("tensor cls_token")
                    .hasMessageContaining("(1, 1, 64)")
                    .hasMessageContaining("(1, 1, 192)");
        }
    }

    @Test
    void unknownBackboneListsTheKnownOnes() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> REGISTRY.build(BackboneOptions.of("vit_huge_patch99", 10), m))
                    .hasMessageContaining("unknown backbone 'vit_huge_patch99'")
                    .hasMessageContaining("vit_base_patch16_224");
        }
    }
}
