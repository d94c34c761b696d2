package org.peft4j.backbone.convnext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/** ConvNeXt against timm 1.0.29 (fixtures by tools/fixtures/make_convnext_fixtures.py). */
class ConvNextGoldenTest {

    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();
    private static final String MICRO = "convnext_micro";
    /** timm 1.0.29: sum(p.numel()) of ConvNeXt(depths=(2,2,2,2), dims=(16,24,32,48), num_classes=10). */
    private static final long MICRO_PARAMETERS = 92_882;
    /** timm 1.0.29: sum(p.numel()) of create_model('convnext_tiny', num_classes=10). */
    private static final long TINY_PARAMETERS = 27_827_818;

    @Test
    void timmSafetensorsReproduceTimmLogitsAndFeatures() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            assertThat(parameterCount(model.parameters())).isEqualTo(MICRO_PARAMETERS);
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
            assertThat(report.loaded()).isEqualTo(model.parameters().size()).isEqualTo(92); // = len(timm state_dict)
            assertThat(Golden.relativeError(Golden.logits(model, MICRO, m), Golden.expected(MICRO + ".logits.npy", m)))
                    .isLessThanOrEqualTo(1e-4);
            assertThat(Golden.relativeError(Golden.features(model, MICRO, m), Golden.expected(MICRO + ".features.npy", m)))
                    .isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void officialLayoutLoadsToTheSameLogits() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(MICRO + ".official.safetensors"), true);
            assertThat(report.loaded()).isEqualTo(model.parameters().size());
            assertThat(report.headReplaced()).isEmpty();
            assertThat(Golden.relativeError(Golden.logits(model, MICRO, m), Golden.expected(MICRO + ".logits.npy", m)))
                    .isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void officialKeysAreRenamedAsTimmDoes() {
        Map<String, String> cases = Map.of(
                "downsample_layers.0.0.weight", "stem.0.weight",
                "downsample_layers.0.1.bias", "stem.1.bias",
                "downsample_layers.2.0.weight", "stages.2.downsample.0.weight",
                "downsample_layers.3.1.bias", "stages.3.downsample.1.bias",
                "stages.2.11.dwconv.weight", "stages.2.blocks.11.conv_dw.weight",
                "stages.0.1.pwconv1.weight", "stages.0.blocks.1.mlp.fc1.weight",
                "stages.1.0.pwconv2.bias", "stages.1.blocks.0.mlp.fc2.bias",
                "stages.3.2.gamma", "stages.3.blocks.2.gamma",
                "norm.weight", "head.norm.weight",
                "head.bias", "head.fc.bias");
        cases.forEach((official, timm) -> assertThat(ConvNextCheckpoint.officialToTimm(official)).as(official).isEqualTo(timm));
        assertThat(ConvNextCheckpoint.officialToTimm("stages.1.0.norm.weight")).isEqualTo("stages.1.blocks.0.norm.weight");
    }

    @Test
    void aHeadOfAnotherSizeIsReplacedWhileHeadNormLoads() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 3), m);
            CheckpointLoader.Report report = CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
            assertThat(report.headReplaced()).containsExactly("head.fc.weight (10, 48) -> (3, 48)", "head.fc.bias (10) -> (3)");
            assertThat(model.headParameters()).containsOnlyKeys("head.fc.weight", "head.fc.bias");
            assertThat(model.backboneParameters()).containsKeys("head.norm.weight", "head.norm.bias");
            // the loaded head norm reproduces timm's pooled features exactly as with the 10-class head
            assertThat(Golden.relativeError(Golden.features(model, MICRO, m), Golden.expected(MICRO + ".features.npy", m)))
                    .isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void convnextTinyBuildsAndRunsOneForwardPassAt224() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of("convnext_tiny", 10), m);
            assertThat(parameterCount(model.parameters())).isEqualTo(TINY_PARAMETERS);
            assertThat(model.parameters()).hasSize(182); // timm's state_dict has 182 tensors
            assertThat(model.dataConfig().imageSize()).isEqualTo(224);
            // blocks are numbered over all stages (3 + 3 + 9 + 3)
            assertThat(model.depth()).isEqualTo(18);
            assertThat(model.site("stages.1.blocks.0.norm").orElseThrow().depth()).isEqualTo(3);
            assertThat(model.site("stages.2.blocks.8.mlp.fc2").orElseThrow().depth()).isEqualTo(14);
            assertThat(model.site("stages.3.blocks.2.mlp").orElseThrow().depth()).isEqualTo(17);
            assertThat(model.site("stages.3.blocks.2.mlp.fc1").orElseThrow().outFeatures()).isEqualTo(3072);
            ParameterStore store = new ParameterStore(m, false);
            NDArray x = m.randomNormal(new Shape(1, 3, 224, 224));
            NDArray logits = model.block().forward(store, new NDList(x), false).singletonOrThrow();
            assertThat(logits.getShape()).isEqualTo(new Shape(1, 10));
            assertThat(logits.isInfinite().any().getBoolean() || logits.isNaN().any().getBoolean()).isFalse();
            // fresh head.norm (weight 1, bias 0): the pooled features have mean 0 and variance 1 over the channels
            NDArray features = model.features(store, x, false);
            assertThat(features.getShape()).isEqualTo(new Shape(1, 768));
            assertThat(Math.abs(features.mean().getFloat())).isLessThan(1e-4f);
            assertThat(features.square().mean().getFloat()).isCloseTo(1f, offset(1e-3f));
        }
    }

    @Test
    void registryFindsConvNextNextToViT() {
        assertThat(REGISTRY.names()).contains("convnext_micro", "convnext_tiny", "convnext_small", "convnext_base", "vit_base_patch16_224");
        assertThat(REGISTRY.providerOf("convnext_base").family()).isEqualTo("convnext");
    }

    @Test
    void dropPathActsOnlyInTrainingAndOnlyWhenSet() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(7);
            Backbone plain = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            Backbone dropping = REGISTRY.build(BackboneOptions.of(MICRO, 10).withDropPath(0.5), m);
            CheckpointLoader.load(plain, Golden.fixture(MICRO + ".safetensors"), true);
            CheckpointLoader.load(dropping, Golden.fixture(MICRO + ".safetensors"), true);
            NDArray x = Golden.expected(MICRO + ".input.npy", m);
            ParameterStore store = new ParameterStore(m, false);
            NDArray eval = dropping.block().forward(store, new NDList(x), false).singletonOrThrow();
            NDArray plainTrain = plain.block().forward(store, new NDList(x), true).singletonOrThrow();
            NDArray dropTrain = dropping.block().forward(store, new NDList(x), true).singletonOrThrow();
            // nothing else differs between training and eval (no dropout, no batch statistics)
            assertThat(plainTrain.sub(eval).abs().max().getFloat()).isEqualTo(0f);
            // with rate 0.5 in the last block (linear over the 8 blocks), training drops whole residual branches
            assertThat(dropTrain.sub(eval).abs().max().getFloat()).isGreaterThan(1e-3f);
        }
    }

    private static long parameterCount(Map<String, Parameter> params) {
        return params.values().stream().mapToLong(p -> p.getArray().getShape().size()).sum();
    }
}
