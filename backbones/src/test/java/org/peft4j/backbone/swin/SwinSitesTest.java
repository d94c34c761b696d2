package org.peft4j.backbone.swin;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;
import org.peft4j.api.site.TokenSite;
import org.peft4j.backbone.BackboneRegistry;

/** Site ids, kinds and depths of Swin, and a full-size Swin-T forward pass. */
class SwinSitesTest {

    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    @Test
    void swinTinyHasTimmsParameterCountSitesAndOneForwardPass() {
        try (NDManager m = NDManager.newBaseManager()) {
            long start = System.nanoTime();
            Backbone tiny = REGISTRY.build(BackboneOptions.of("swin_tiny_patch4_window7_224", 10), m);
            // timm.create_model('swin_tiny_patch4_window7_224', num_classes=10): 27,527,044 parameters, 173 tensors
            assertThat(tiny.parameters()).hasSize(173);
            assertThat(tiny.parameters().values().stream().mapToLong(p -> p.getShape().size()).sum()).isEqualTo(27_527_044L);
            assertThat(tiny.depth()).isEqualTo(12);
            assertThat(tiny.numFeatures()).isEqualTo(768);

            List<AdapterSite> sites = tiny.sites();
            // VPT's Swin variant prompts every block: TOKENS sites without prefix tokens
            assertThat(sites.stream().filter(s -> s.kind() == SiteKind.TOKENS).map(s -> ((TokenSite) s).prefixTokens()))
                    .hasSize(12).containsOnly(0);
            assertThat(sites.stream().filter(s -> s.depth() >= 0).map(AdapterSite::depth).distinct().toList())
                    .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
            Map<String, AdapterSite> byId = sites.stream().collect(Collectors.toMap(AdapterSite::id, Function.identity()));
            assertSite(byId, "patch_embed.proj", SiteKind.LINEAR, -1, 48, 96);
            assertSite(byId, "patch_embed.norm", SiteKind.NORM, -1, 96, 96);
            assertSite(byId, "layers.0.blocks.0.norm1", SiteKind.NORM, 0, 96, 96);
            assertSite(byId, "layers.1.downsample.norm", SiteKind.NORM, -1, 384, 384);
            assertSite(byId, "layers.1.downsample.reduction", SiteKind.LINEAR, -1, 384, 192);
            assertSite(byId, "layers.2.blocks.0.attn.qkv", SiteKind.LINEAR, 4, 384, 1152);
            assertSite(byId, "layers.2.blocks.5.attn.proj", SiteKind.LINEAR, 9, 384, 384);
            assertSite(byId, "layers.2.blocks.5.attn", SiteKind.ATTENTION, 9, 384, 384);
            assertSite(byId, "layers.3.blocks.1.norm2", SiteKind.NORM, 11, 768, 768);
            assertSite(byId, "layers.3.blocks.1.mlp.fc1", SiteKind.LINEAR, 11, 768, 3072);
            assertSite(byId, "layers.3.blocks.1.mlp.fc2", SiteKind.LINEAR, 11, 3072, 768);
            assertSite(byId, "layers.3.blocks.1.mlp", SiteKind.FFN, 11, 768, 768);
            assertSite(byId, "layers.3.blocks.1.mlp.inner", SiteKind.MLP, 11, 768, 768);
            assertSite(byId, "layers.3.blocks.1.drop_path2", SiteKind.FFN_RESIDUAL, 11, 768, 768);
            assertSite(byId, "layers.2.blocks.5.drop_path1", SiteKind.ATTENTION_RESIDUAL, 9, 384, 384);
            assertSite(byId, "layers.2.blocks.5", SiteKind.TOKENS, 9, 384, 384);
            assertSite(byId, "norm", SiteKind.NORM, -1, 768, 768);
            assertThat(byId).doesNotContainKey("layers.0.downsample.norm");
            assertThat(byId.get("layers.3.blocks.0.attn.qkv").slice("v")).isEqualTo(new OutputSlice("v", 1536, 2304));
            assertThat(sites.size()).isEqualTo(2 + 2 * 3 + 12 * 12 + 1);

            // a method configured with ViT targets works on Swin unchanged
            for (String target : List.of("attn.qkv:q", "mlp.fc1", "mlp", "attn", "norm1", "drop_path2", "mlp.inner")) {
                List<SiteSelector.Match> matches = SiteSelector.builder().setTargets(List.of(target)).setKinds(EnumSet.allOf(SiteKind.class)).build().select(tiny.name(), sites);
                assertThat(matches).as(target).hasSize(12);
                assertThat(matches.stream().map(x -> x.site().depth()).toList()).as(target)
                        .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
            }

            NDArray x = m.randomNormal(new Shape(1, 3, 224, 224));
            NDArray y = tiny.block().forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            assertThat(y.getShape()).isEqualTo(new Shape(1, 10));
            assertThat(y.isNaN().any().getBoolean() || y.isInfinite().any().getBoolean()).isFalse();
            assertThat(y.abs().max().getFloat()).isGreaterThan(0f);
            assertThat((System.nanoTime() - start) / 1e9).as("seconds to build and run Swin-T").isLessThan(30.0);
        }
    }

    @Test
    void smallAndBaseFollowTimmsWidthsDepthsAndHeads() {
        SwinSpec small = SwinProvider.spec("swin_small_patch4_window7_224");
        assertThat(List.of(small.totalDepth(), small.numFeatures(), small.stageDim(2), small.heads().get(3), small.windowSize()))
                .containsExactly(24, 768, 384, 24, 7);
        SwinSpec base = SwinProvider.spec("swin_base_patch4_window7_224");
        assertThat(List.of(base.totalDepth(), base.numFeatures(), base.stageDim(2), base.heads().get(2), base.mlpHidden(3)))
                .containsExactly(24, 1024, 512, 16, 4096);
        SwinProvider provider = new SwinProvider();
        assertThat(provider.variants()).contains("swin_tiny_patch4_window7_224", "swin_small_patch4_window7_224",
                "swin_base_patch4_window7_224", "swin_micro_patch4_window4_32");
        assertThat(REGISTRY.providerOf("swin_small_patch4_window7_224").family()).isEqualTo("swin");
        assertThat(REGISTRY.names()).contains("vit_base_patch16_224", "swin_base_patch4_window7_224");
    }

    private static void assertSite(Map<String, AdapterSite> byId, String id, SiteKind kind, int depth, int in, int out) {
        AdapterSite site = byId.get(id);
        assertThat(site).as(id).isNotNull();
        assertThat(List.of(site.kind(), site.depth(), site.inFeatures(), site.outFeatures())).as(id)
                .containsExactly(kind, depth, in, out);
    }
}
