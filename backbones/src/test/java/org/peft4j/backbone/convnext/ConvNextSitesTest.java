package org.peft4j.backbone.convnext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.PeftException;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;
import org.peft4j.api.testing.Capture;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.backbone.Golden;

/** The adapter sites ConvNeXt offers: ids, kinds, depths, widths, and what their inputs are. */
class ConvNextSitesTest {

    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();
    private static final String MICRO = "convnext_micro"; // depths 2,2,2,2; dims 16,24,32,48; 32 px
    private static final Pattern BLOCK_SITE = Pattern.compile(
            "^stages\\.(\\d)\\.blocks\\.(\\d)\\.(conv_dw|norm|mlp|mlp\\.fc1|mlp\\.fc2|drop_path)$");

    @Test
    void microOffersTimmIdsWithGlobalBlockDepths() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            List<AdapterSite> sites = model.sites();
            // stem.0, stem.1 + 3 downsamples (norm, conv) + 8 blocks x (conv_dw, norm, fc1, fc2, mlp, drop_path)
            // + norm_pre + head.norm
            assertThat(sites.size()).isEqualTo(58);
            assertThat(sites.subList(0, 8)).extracting(AdapterSite::id).containsExactly("stem.0", "stem.1",
                    "stages.0.blocks.0.conv_dw", "stages.0.blocks.0.norm", "stages.0.blocks.0.mlp.fc1",
                    "stages.0.blocks.0.mlp.fc2", "stages.0.blocks.0.mlp", "stages.0.blocks.0.drop_path");
            assertThat(sites.subList(56, 58)).extracting(AdapterSite::id).containsExactly("norm_pre", "head.norm");
            assertThat(sites).extracting(AdapterSite::kind).doesNotContain(SiteKind.ATTENTION, SiteKind.TOKENS);
            Map<SiteKind, Long> byKind = sites.stream().collect(Collectors.groupingBy(AdapterSite::kind, Collectors.counting()));
            assertThat(byKind).containsExactlyInAnyOrderEntriesOf(Map.of(SiteKind.NORM, 13L, SiteKind.LINEAR, 16L,
                    SiteKind.FFN, 8L, SiteKind.FFN_RESIDUAL, 8L, SiteKind.CONV, 12L, SiteKind.IDENTITY, 1L));

            int[] firstBlockOfStage = {0, 2, 4, 6};
            int[] dims = {16, 24, 32, 48};
            int blockSites = 0;
            for (AdapterSite site : sites) {
                Matcher b = BLOCK_SITE.matcher(site.id());
                if (!b.matches()) {
                    assertThat(site.id()).matches("stem\\.[01]|stages\\.[123]\\.downsample\\.[01]|norm_pre|head\\.norm");
                    SiteKind expected = site.id().equals("stem.0") || site.id().endsWith("downsample.1") ? SiteKind.CONV
                            : site.id().equals("norm_pre") ? SiteKind.IDENTITY : SiteKind.NORM;
                    assertThat(site.kind()).as(site.id()).isEqualTo(expected);
                    assertThat(site.depth()).as(site.id()).isEqualTo(-1);
                    continue;
                }
                blockSites++;
                int stage = Integer.parseInt(b.group(1));
                int depth = firstBlockOfStage[stage] + Integer.parseInt(b.group(2));
                int dim = dims[stage];
                assertThat(site.depth()).as(site.id()).isEqualTo(depth);
                switch (b.group(3)) {
                    case "conv_dw" -> assertKind(site, SiteKind.CONV, dim, dim);
                    case "norm" -> assertKind(site, SiteKind.NORM, dim, dim);
                    case "mlp" -> assertKind(site, SiteKind.FFN, dim, dim);
                    case "drop_path" -> assertKind(site, SiteKind.FFN_RESIDUAL, dim, dim);
                    case "mlp.fc1" -> assertKind(site, SiteKind.LINEAR, dim, 4 * dim);
                    default -> assertKind(site, SiteKind.LINEAR, 4 * dim, dim);
                }
            }
            assertThat(blockSites).isEqualTo(48);
            assertThat(model.depth()).isEqualTo(8);
            // a downsample norm normalises the previous stage's channels
            assertThat(model.site("stages.2.downsample.0").orElseThrow().inFeatures()).isEqualTo(24);
            assertThat(model.site("stem.1").orElseThrow().inFeatures()).isEqualTo(16);
            assertThat(model.site("head.norm").orElseThrow().inFeatures()).isEqualTo(48);
            // NORM and LINEAR sites own the checkpoint's tensors
            assertThat(model.site("stages.3.blocks.1.mlp.fc1").orElseThrow().weight().orElseThrow())
                    .isSameAs(model.parameters().get("stages.3.blocks.1.mlp.fc1.weight"));
            assertThat(model.site("stages.1.downsample.0").orElseThrow().bias().orElseThrow())
                    .isSameAs(model.parameters().get("stages.1.downsample.0.bias"));
            // CONV sites too: the stem, depthwise and downsample convs with their timm shapes
            assertThat(model.site("stem.0").orElseThrow().weight().orElseThrow())
                    .isSameAs(model.parameters().get("stem.0.weight"));
            assertThat(model.parameters().get("stem.0.weight").getShape()).isEqualTo(new Shape(16, 3, 4, 4));
            assertThat(model.site("stages.2.blocks.1.conv_dw").orElseThrow().bias().orElseThrow())
                    .isSameAs(model.parameters().get("stages.2.blocks.1.conv_dw.bias"));
            assertThat(model.parameters().get("stages.2.blocks.1.conv_dw.weight").getShape()).isEqualTo(new Shape(32, 1, 7, 7));
            assertKind(model.site("stages.3.downsample.1").orElseThrow(), SiteKind.CONV, 32, 48);
        }
    }

    @Test
    void targetingAttentionNamesWhatConvNextOffers() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            SiteSelector selector = SiteSelector.builder().setTargets(List.of("attn.qkv")).setKinds(EnumSet.of(SiteKind.LINEAR))
                    .optConfigKey("peft4j.methods.lora.targets").build();
            assertThatThrownBy(() -> selector.select(model.name(), model.sites()))
                    .isInstanceOf(PeftException.class)
                    .hasMessageContaining("peft4j.methods.lora.targets: target 'attn.qkv' matches no site of convnext_micro")
                    .hasMessageContaining("it offers")
                    .hasMessageContaining("mlp.fc1");
            // while the same target style finds ConvNeXt's linears
            List<SiteSelector.Match> fc1 = SiteSelector.builder().setTargets(List.of("mlp.fc1"))
                    .setKinds(EnumSet.of(SiteKind.LINEAR)).build().select(model.name(), model.sites());
            assertThat(fc1).hasSize(8);
        }
    }

    @Test
    void ffnSiteReadsTheNormedChannelsLastTensorAndNormSitesRunChannelsLast() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
            Function<String, Capture> attach = id -> {
                Capture c = new Capture();
                c.initialize(model.manager(), DataType.FLOAT32);
                model.site(id).orElseThrow().attach(c);
                return c;
            };
            Capture norm = attach.apply("stages.1.blocks.0.norm");
            Capture fc2 = attach.apply("stages.1.blocks.0.mlp.fc2");
            Capture mlp = attach.apply("stages.1.blocks.0.mlp");
            Capture stem = attach.apply("stem.1");
            Capture down = attach.apply("stages.1.downsample.0");
            Capture head = attach.apply("head.norm");
            Capture stemConv = attach.apply("stem.0");
            Capture dw = attach.apply("stages.1.blocks.0.conv_dw");
            Capture residual = attach.apply("stages.1.blocks.0.drop_path");
            Capture pre = attach.apply("norm_pre");

            NDArray logits = Golden.logits(model, MICRO, m);
            // capturing adapters change nothing
            assertThat(Golden.relativeError(logits, Golden.expected(MICRO + ".logits.npy", m))).isLessThanOrEqualTo(1e-4);
            // stage 1 of a 32 px input: 4x4 maps of 24 channels, channels last
            assertThat(mlp.input().getShape()).isEqualTo(new Shape(2, 4, 4, 24));
            assertThat(mlp.input().sub(norm.output()).abs().max().getFloat()).isEqualTo(0f);
            assertThat(mlp.output().sub(fc2.output()).abs().max().getFloat()).isEqualTo(0f);
            // the normed tensor: per-pixel LayerNorm over channels, then the loaded affine weight
            assertThat(norm.input().getShape()).isEqualTo(new Shape(2, 4, 4, 24));
            assertThat(stem.input().getShape()).isEqualTo(new Shape(2, 8, 8, 16));
            assertThat(down.input().getShape()).isEqualTo(new Shape(2, 8, 8, 16));
            assertThat(head.input().getShape()).isEqualTo(new Shape(2, 48));
            // CONV sites see NCHW; the residual site sees the FFN's input and gamma * mlp (no drop path at eval)
            assertThat(stemConv.input().getShape()).isEqualTo(new Shape(2, 3, 32, 32));
            assertThat(stemConv.output().getShape()).isEqualTo(new Shape(2, 16, 8, 8));
            assertThat(dw.input().getShape()).isEqualTo(new Shape(2, 24, 4, 4));
            assertThat(dw.output().getShape()).isEqualTo(new Shape(2, 24, 4, 4));
            assertThat(residual.input().sub(mlp.input()).abs().max().getFloat()).isEqualTo(0f);
            NDArray gamma = model.parameters().get("stages.1.blocks.0.gamma").getArray();
            assertThat(residual.output().sub(mlp.output().mul(gamma)).abs().max().getFloat()).isEqualTo(0f);
            // norm_pre sees the last feature map channels-last, before pooling
            assertThat(pre.input().getShape()).isEqualTo(new Shape(2, 1, 1, 48));
            assertThat(pre.input().reshape(2, 48).sub(head.input()).abs().max().getFloat()).isLessThan(1e-6f);
            // stem.1 normalises each pixel over its 16 channels (checked with its weight and bias undone)
            NDArray w = model.parameters().get("stem.1.weight").getArray();
            NDArray b = model.parameters().get("stem.1.bias").getArray();
            NDArray unit = stem.output().sub(b).div(w);
            assertThat(unit.mean(new int[] {3}).abs().max().getFloat()).isLessThan(1e-4f);
            assertThat(unit.square().mean(new int[] {3}).sub(1f).abs().max().getFloat()).isLessThan(1e-3f);
        }
    }

    @Test
    void anAdapterOnABranchSiteChangesTheLogits() {
        try (NDManager m = NDManager.newBaseManager()) {
            Backbone model = REGISTRY.build(BackboneOptions.of(MICRO, 10), m);
            CheckpointLoader.load(model, Golden.fixture(MICRO + ".safetensors"), true);
            NDArray before = Golden.logits(model, MICRO, m);
            Shift shift = new Shift(0.5f);
            shift.initialize(model.manager(), DataType.FLOAT32);
            model.site("stages.3.blocks.1.mlp").orElseThrow().attach(shift);
            NDArray after = Golden.logits(model, MICRO, m);
            assertThat(after.sub(before).abs().max().getFloat()).isGreaterThan(1e-2f);
            model.site("stages.3.blocks.1.mlp").orElseThrow().detach(shift);
            assertThat(Golden.logits(model, MICRO, m).sub(before).abs().max().getFloat()).isEqualTo(0f);
        }
    }

    private static void assertKind(AdapterSite site, SiteKind kind, int in, int out) {
        assertThat(site.kind()).as(site.id()).isEqualTo(kind);
        assertThat(site.inFeatures()).as(site.id()).isEqualTo(in);
        assertThat(site.outFeatures()).as(site.id()).isEqualTo(out);
    }

    /** Adds a constant to the site's output. */
    private static final class Shift extends AdapterBlock {
        private final float amount;

        Shift(float amount) {
            super("shift");
            this.amount = amount;
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            return output.add(amount);
        }
    }
}
