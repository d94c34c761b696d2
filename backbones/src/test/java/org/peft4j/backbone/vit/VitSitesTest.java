package org.peft4j.backbone.vit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peft4j.backbone.Sites.attach;
import static org.peft4j.backbone.Sites.logits;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.Capture;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/** ViT's residual, MLP and identity sites, the frozen-backbone eval mode and where prompts are pooled. */
class VitSitesTest {

    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();
    private static final String AVG_LS = "vit_micro_avg_ls_patch4_32"; // average pooling, layer scale

    private static Backbone model(NDManager m, double dropPath) {
        Backbone model = REGISTRY.build(BackboneOptions.of(AVG_LS, 10).withDropPath(dropPath), m);
        CheckpointLoader.load(model, Golden.fixture(AVG_LS + ".safetensors"), true);
        return model;
    }



    @Test
    void everyBlockOffersItsBranchesTheirResidualsAndTheMlpOnItsNormedInput() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = model(m, 0);
            List<String> block1 = model.sites().stream().filter(s -> s.depth() == 1).map(AdapterSite::id).toList();
            assertThat(block1).containsExactly("blocks.1", "blocks.1.norm1", "blocks.1.attn.qkv", "blocks.1.attn.proj",
                    "blocks.1.attn", "blocks.1.drop_path1", "blocks.1.norm2", "blocks.1.mlp.fc1", "blocks.1.mlp.fc2",
                    "blocks.1.mlp.inner", "blocks.1.mlp", "blocks.1.drop_path2");
            assertThat(model.site("blocks.1.drop_path1").orElseThrow().kind()).isEqualTo(SiteKind.ATTENTION_RESIDUAL);
            assertThat(model.site("blocks.1.drop_path2").orElseThrow().kind()).isEqualTo(SiteKind.FFN_RESIDUAL);
            assertThat(model.site("blocks.1.mlp.inner").orElseThrow().kind()).isEqualTo(SiteKind.MLP);
            // average pooling: the Identity norm before pooling is a site, then the pooled fc_norm
            assertThat(model.sites().subList(model.sites().size() - 2, model.sites().size()))
                    .extracting(AdapterSite::id, AdapterSite::kind)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("norm", SiteKind.IDENTITY),
                            org.assertj.core.groups.Tuple.tuple("fc_norm", SiteKind.NORM));
            assertThat(model.averagePooled()).isTrue();

            Capture branch = attach(model, "blocks.1.mlp", new Capture());
            Capture inner = attach(model, "blocks.1.mlp.inner", new Capture());
            Capture norm2 = attach(model, "blocks.1.norm2", new Capture());
            Capture residual = attach(model, "blocks.1.drop_path2", new Capture());
            Capture pool = attach(model, "norm", new Capture());
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            logits(model, x, false);
            // the residual site reads the stream and gives ls2 * mlp(norm2(x)) (no drop path at eval)
            NDArray gamma = model.parameters().get("blocks.1.ls2.gamma").getArray();
            assertThat(residual.input().contentEquals(branch.input())).isTrue();
            assertThat(residual.output().sub(branch.output().mul(gamma)).abs().max().getFloat()).isZero();
            // the MLP site reads norm2's output and gives the branch output
            assertThat(inner.input().contentEquals(norm2.output())).isTrue();
            assertThat(inner.output().contentEquals(branch.output())).isTrue();
            assertThat(pool.input().getShape()).isEqualTo(new Shape(2, 1 + 64, 64));
        }
    }

    @Test
    void frozenEvalTurnsDropPathOffWhileAdaptersStillSeeTraining() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = model(m, 0.5);
            Capture probe = attach(model, "blocks.3.drop_path2", new Capture());
            NDArray x = m.randomNormal(new Shape(4, 3, 32, 32));
            NDArray eval = logits(model, x, false);
            assertThat(logits(model, x, true).contentEquals(eval)).as("drop path acts in training").isFalse();
            assertThat(probe.training()).isTrue();
            model.setFrozenBackboneEval(true);
            assertThat(logits(model, x, true).contentEquals(eval)).as("frozen backbone in eval mode").isTrue();
            assertThat(probe.training()).as("adapters still get training = true").isTrue();
            model.setFrozenBackboneEval(false);
            assertThat(logits(model, x, true).contentEquals(eval)).isFalse();
        }
    }

    @Test
    void promptsAreDroppedBeforeAveragePoolingUnlessPooled() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = model(m, 0);
            Capture pool = attach(model, "norm", new Capture());
            Capture fcNorm = attach(model, "fc_norm", new Capture());
            attach(model, "blocks.0", new InsertTokens(3));
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            logits(model, x, false);
            NDArray tokens = pool.output(); // [cls, 3 prompts, 64 patches]
            assertThat(tokens.getShape()).isEqualTo(new Shape(2, 1 + 3 + 64, 64));
            assertThat(fcNorm.input().sub(tokens.get(":, 4:, :").mean(new int[] {1})).abs().max().getFloat()).isLessThan(1e-6f);
            model.setPromptsPooled(true);
            logits(model, x, false);
            assertThat(fcNorm.input().sub(tokens.get(":, 1:, :").mean(new int[] {1})).abs().max().getFloat()).isLessThan(1e-6f);
        }
    }

    /** Inserts {@code n} constant tokens after the cls token (a stand-in for VPT). */
    static final class InsertTokens extends AdapterBlock {
        private final int n;

        InsertTokens(int n) {
            super("insert");
            this.n = n;
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            Shape s = output.getShape();
            NDArray prompts = output.getManager().ones(new Shape(s.get(0), n, s.get(2))).mul(0.3f);
            return output.get(":, :1, :").concat(prompts, 1).concat(output.get(":, 1:, :"), 1);
        }
    }
}
