package org.peft4j.backbone.swin;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/** Training-mode behaviour: drop path, gradients into Swin's own parameters, and what branch sites see. */
class SwinTrainingTest {

    private static final String MICRO = SwinGoldenTest.MICRO;
    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    @Test
    void dropPathIsOffInEvalAndDropsBranchesInTraining() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(7);
            Backbone dropping = loadedMicro(m, 0.5);
            SwinGoldenTest.assertGolden(dropping, MICRO, m); // eval: timm's logits despite rate 0.5
            NDArray x = Golden.expected(MICRO + ".input.npy", m);
            NDArray eval = forward(dropping, x, false, m);
            assertThat(Golden.relativeError(forward(dropping, x, true, m), eval)).isGreaterThan(1e-2);

            Backbone plain = loadedMicro(m, 0.0);
            assertThat(Golden.relativeError(forward(plain, x, true, m), forward(plain, x, false, m))).isLessThanOrEqualTo(1e-6);
        }
    }

    @Test
    void gradientsReachTheBiasTablesThroughTheShiftedWindowsAndThePatchEmbedding() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = loadedMicro(m, 0.0);
            NDArray x = Golden.expected(MICRO + ".input.npy", m);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.block().forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
                collector.backward(logits.square().sum());
            }
            for (String key : new String[] {"layers.0.blocks.1.attn.relative_position_bias_table",
                    "layers.2.blocks.1.attn.relative_position_bias_table", "layers.1.downsample.reduction.weight",
                    "patch_embed.proj.weight", "head.fc.bias"}) {
                assertThat(model.parameters().get(key).getArray().getGradient().abs().sum().getFloat()).as(key).isGreaterThan(0f);
            }
        }
    }

    @Test
    void branchSitesSeeTheResidualStreamAndReturnWhatIsAddedBack() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = loadedMicro(m, 0.0);
            Recorder embed = attach(model, "patch_embed.norm", false);
            Recorder attn = attach(model, "layers.0.blocks.0.attn", false);
            Recorder mlp = attach(model, "layers.0.blocks.0.mlp", false);
            NDArray x = Golden.expected(MICRO + ".input.npy", m);
            forward(model, x, false, m);
            // ATTENTION: input = the stream entering the block [B, H, W, C]; output = attention before the residual add
            assertThat(attn.input.getShape()).isEqualTo(new Shape(2, 8, 8, 16));
            assertThat(attn.input.sub(embed.output).abs().max().getFloat()).isZero();
            // FFN: input = stream after the attention residual, as timm's tokens [B, H*W, C]
            NDArray afterAttn = attn.input.add(attn.output).reshape(2, 64, 16);
            assertThat(mlp.input.sub(afterAttn).abs().max().getFloat()).isLessThanOrEqualTo(1e-6f);

            // an adapter's output replaces what the branch adds back: zeroing it leaves only the residual
            Recorder zero = attach(model, "layers.0.blocks.0.attn", true);
            forward(model, x, false, m);
            assertThat(mlp.input.sub(attn.input.reshape(2, 64, 16)).abs().max().getFloat()).isZero();
            model.site("layers.0.blocks.0.attn").orElseThrow().detach(zero);
        }
    }

    @Test
    void aTrainingStepLeavesNoArraysInTheModelsManager() {
        try (NDManager home = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10).withImageSize(40).withDropPath(0.2), home);
            int before = home.getManagedArrays().size();
            try (NDManager step = home.newSubManager();
                    GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray x = step.randomNormal(new Shape(2, 3, 40, 40));
                NDArray logits = model.block().forward(new ParameterStore(step, false), new NDList(x), true).singletonOrThrow();
                collector.backward(logits.sum());
            }
            assertThat(home.getManagedArrays()).hasSize(before);
        }
    }

    private static Backbone loadedMicro(NDManager m, double dropPath) {
        Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10).withDropPath(dropPath), m);
        CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
        return model;
    }

    private static NDArray forward(Backbone model, NDArray x, boolean training, NDManager m) {
        return model.block().forward(new ParameterStore(m, false), new NDList(x), training).singletonOrThrow();
    }

    private static Recorder attach(Backbone model, String siteId, boolean zero) {
        AdapterSite site = model.site(siteId).orElseThrow();
        Recorder recorder = new Recorder("rec" + site.adapters().size(), zero);
        site.attach(recorder);
        return recorder;
    }

    /** Remembers what the site gave it; passes the output through (or zeroes it). */
    private static final class Recorder extends AdapterBlock {
        private final boolean zero;
        NDArray input;
        NDArray output;

        Recorder(String name, boolean zero) {
            super(name);
            this.zero = zero;
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray in, NDArray out, boolean training) {
            input = in;
            output = out;
            return zero ? out.zerosLike() : out;
        }
    }
}
