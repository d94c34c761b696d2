package org.peft4j.methods.baselines.vpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peft4j.methods.baselines.testing.Fixtures.maxDiff;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.NormSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.TokenSite;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;
import org.peft4j.methods.baselines.testing.Fixtures;

class VptTest {

    private static final int D = 8;

    private static SiteHarness tokens(long seed) {
        return SiteHarness.of(new TokenSite("blocks.0", 0, D, 1), seed);
    }

    private static PromptAdapter prompts(PromptAdapter.Mode mode, int count, float dropout) {
        return new PromptAdapter("blocks.0", mode, count, D, 1, dropout, D, D);
    }

    @Test
    void insertPutsExactlyPPromptsBetweenTheClsTokenAndThePatches() {
        try (SiteHarness h = tokens(1)) {
            PromptAdapter vpt = h.attach(prompts(PromptAdapter.Mode.INSERT, 3, 0f));
            NDArray x = h.randomInput(2, 5);
            NDArray out = h.forward(x, false);
            assertThat(out.getShape()).isEqualTo(Fixtures.shape(2, 8, D));
            assertThat(maxDiff(out.get(":, 0:1, :"), x.get(":, 0:1, :"))).isZero();
            assertThat(maxDiff(out.get(":, 4:, :"), x.get(":, 1:, :"))).isZero();
            NDArray p = vpt.prompts().getArray();
            assertThat(maxDiff(out.get("0, 1:4, :"), p)).isZero();
            assertThat(maxDiff(out.get("1, 1:4, :"), p)).isZero();
        }
    }

    @Test
    void replaceSwapsThePreviousPromptsAndKeepsTheLength() {
        try (SiteHarness h = tokens(2)) {
            PromptAdapter vpt = h.attach(prompts(PromptAdapter.Mode.REPLACE, 3, 0f));
            NDArray x = h.randomInput(2, 1 + 3 + 4);
            NDArray out = h.forward(x, false);
            assertThat(out.getShape()).isEqualTo(x.getShape());
            assertThat(maxDiff(out.get(":, 0:1, :"), x.get(":, 0:1, :"))).isZero();
            assertThat(maxDiff(out.get(":, 4:, :"), x.get(":, 4:, :"))).isZero();
            assertThat(maxDiff(out.get("1, 1:4, :"), vpt.prompts().getArray())).isZero();
            // too short a sequence (no previous prompts) is a clear error
            assertThatThrownBy(() -> h.forward(h.randomInput(1, 3), false)).isInstanceOf(PeftException.class)
                    .hasMessageContaining("blocks.0").hasMessageContaining("REPLACE needs at least 4");
        }
    }

    @Test
    void promptsGetTheExactGradient() {
        try (SiteHarness h = tokens(3)) {
            PromptAdapter vpt = h.attach(prompts(PromptAdapter.Mode.INSERT, 4, 0f));
            Map<String, NDArray> g = h.gradients(h.randomInput(3, 6), y -> y.square().sum());
            // d/dp sum over the batch of |p|^2 = 2 * B * p
            NDArray expected = vpt.prompts().getArray().mul(2 * 3);
            assertThat(maxDiff(g.get("vpt.prompts"), expected)).isLessThan(1e-5f);
            assertThat(expected.abs().max().getFloat()).isPositive();
        }
    }

    @Test
    void promptDropoutZeroesOrRescalesEachPromptEntryOnlyInTraining() {
        try (SiteHarness h = tokens(4)) {
            PromptAdapter vpt = h.attach(prompts(PromptAdapter.Mode.INSERT, 10, 0.5f));
            NDArray x = h.randomInput(4, 3);
            NDArray p = vpt.prompts().getArray();
            assertThat(maxDiff(h.forward(x, false).get("2, 1:11, :"), p)).isZero();
            NDArray trained = h.forward(x, true).get(":, 1:11, :"); // [4, 10, D]
            NDArray doubled = trained.sub(p.mul(2)).abs().lt(1e-6f);
            NDArray dropped = trained.eq(0f);
            assertThat(doubled.logicalOr(dropped).all().getBoolean()).isTrue();
            long kept = doubled.sum().getLong();
            assertThat(kept).isBetween(100L, 220L); // of 320 entries, about half survive
        }
    }

    @Test
    void deepReplacesAtEveryBlockSoTheTokenCountStaysNPlusP() {
        try (TinyModel model = new TinyModel(D, 3, 4, 5)) {
            new VptMethod().create(TestContexts.method("vpt", "mode = deep, prompts = 4")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0[vpt]", "blocks.1[vpt]", "blocks.2[vpt]");
            assertThat(Fixtures.trainable(model)).isEqualTo(3 * 4 * D);
            List<Fixtures.Probe> probes = attachProbes(model);
            Fixtures.Probe last = lastFfnProbe(model);
            NDArray x = model.manager().randomNormal(Fixtures.shape(2, 6, D));
            model.logits(x, false);
            for (int i = 0; i < 3; i++) {
                NDArray seen = probes.get(i).last;
                assertThat(seen.getShape()).isEqualTo(Fixtures.shape(2, 6 + 4, D));
                PromptAdapter vpt = (PromptAdapter) model.site("blocks." + i).orElseThrow().adapters().get(0);
                assertThat(vpt.mode()).isEqualTo(i == 0 ? PromptAdapter.Mode.INSERT : PromptAdapter.Mode.REPLACE);
                assertThat(maxDiff(seen.get("1, 1:5, :"), vpt.prompts().getArray())).isZero();
            }
            assertThat(last.last.getShape()).isEqualTo(Fixtures.shape(2, 6 + 4, D)); // output of the block stack
        }
    }

    @Test
    void shallowInsertsExactlyPTokensOnceAndTheyFlowThrough() {
        try (TinyModel model = new TinyModel(D, 3, 4, 6)) {
            new VptMethod().create(TestContexts.method("vpt", "mode = shallow, prompts = 5")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0[vpt]");
            assertThat(Fixtures.trainable(model)).isEqualTo(5 * D);
            List<Fixtures.Probe> probes = attachProbes(model);
            Fixtures.Probe last = lastFfnProbe(model);
            NDArray x = model.manager().randomNormal(Fixtures.shape(2, 7, D));
            model.logits(x, false);
            for (Fixtures.Probe probe : probes) {
                assertThat(probe.last.getShape()).isEqualTo(Fixtures.shape(2, 7 + 5, D));
            }
            assertThat(last.last.getShape()).isEqualTo(Fixtures.shape(2, 12, D));
        }
    }

    @Test
    void promptsGetGradientsThroughTheModel() {
        for (String mode : new String[] {"shallow", "deep"}) {
            try (TinyModel model = new TinyModel(D, 3, 4, 7)) {
                new VptMethod().create(TestContexts.method("vpt", "prompts = 2, mode = " + mode)).attach(model);
                Fixtures.Probe out = lastFfnProbe(model);
                NDArray x = model.manager().randomNormal(Fixtures.shape(2, 4, D));
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    model.logits(x, true);
                    collector.backward(out.last.get(":, 1:3, :").square().sum()); // the prompt positions' output
                }
                List<Float> norms = new ArrayList<>();
                for (AdapterSite site : model.sites()) {
                    if (site.kind() == SiteKind.TOKENS && !site.adapters().isEmpty()) {
                        PromptAdapter vpt = (PromptAdapter) site.adapters().get(0);
                        norms.add(vpt.prompts().getArray().getGradient().abs().sum().getFloat());
                    }
                }
                if (mode.equals("shallow")) {
                    assertThat(norms).hasSize(1);
                    assertThat(norms.get(0)).isPositive();
                } else {
                    // TinyModel does not mix tokens, so only the last block's prompts reach the last outputs;
                    // the earlier ones were replaced (a real ViT's attention would pass them on)
                    assertThat(norms).hasSize(3);
                    assertThat(norms.get(2)).isPositive();
                    assertThat(norms.get(0)).isZero();
                    assertThat(norms.get(1)).isZero();
                }
            }
        }
    }

    @Test
    void initBoundUsesThePatchVectorSizeOrFallsBackToTwoD() {
        try (TinyModel model = new TinyModel(16, 2, 4, 8)) {
            new VptMethod().create(TestContexts.method("vpt", "prompts = 50")).attach(model);
            float bound = (float) Math.sqrt(6.0 / (16 + 16));
            for (int i = 0; i < 2; i++) {
                PromptAdapter vpt = (PromptAdapter) model.site("blocks." + i).orElseThrow().adapters().get(0);
                float max = vpt.prompts().getArray().abs().max().getFloat();
                assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(0.95f * bound);
            }
        }
        // 3 x 4 x 4 patches -> patch vector 48: bound sqrt(6 / (48 + 16))
        LinearSite patch = LinearSite.builder().setId("patch_embed.proj").setFeatures(48, 16).build();
        try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(patch, new TokenSite("blocks.0", 0, 16, 1))) {
            new VptMethod().create(TestContexts.method("vpt", "prompts = 50, mode = shallow")).attach(model);
            PromptAdapter vpt = (PromptAdapter) model.sites().get(1).adapters().get(0);
            float bound = (float) Math.sqrt(6.0 / (48 + 16));
            float max = vpt.prompts().getArray().abs().max().getFloat();
            assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(0.95f * bound);
        }
    }

    @Test
    void deepPromptsOnAHierarchicalModelTakeEachStagesWidthAndThePatchEmbeddingsBound() {
        // Swin-like: no prefix, the second stage twice as wide; VPT's Swin draws every prompt with the embedding's fans
        LinearSite patch = LinearSite.builder().setId("patch_embed.proj").setFeatures(48, 16).build();
        try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(patch, new TokenSite("layers.0.blocks.0", 0, 16, 0),
                new TokenSite("layers.1.blocks.0", 1, 32, 0))) {
            new VptMethod().create(TestContexts.method("vpt", "prompts = 60")).attach(model);
            PromptAdapter first = (PromptAdapter) model.sites().get(1).adapters().get(0);
            PromptAdapter second = (PromptAdapter) model.sites().get(2).adapters().get(0);
            assertThat(first.prompts().getShape()).isEqualTo(Fixtures.shape(60, 16));
            assertThat(second.prompts().getShape()).isEqualTo(Fixtures.shape(60, 32));
            assertThat(second.mode()).isEqualTo(PromptAdapter.Mode.REPLACE);
            float bound = (float) Math.sqrt(6.0 / (48 + 16));
            for (PromptAdapter vpt : List.of(first, second)) {
                float max = vpt.prompts().getArray().abs().max().getFloat();
                assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(0.95f * bound);
            }
            assertThat(model.promptsPooled()).isTrue(); // VPT's code averages the prompts on average-pooled models
            assertThat(model.frozenEval()).isTrue(); // and runs the frozen encoder in eval mode
        }
        try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(new TokenSite("blocks.0", 0, 16, 1))) {
            new VptMethod().create(TestContexts.method("vpt", "pool-prompts = false, frozen-eval = false")).attach(model);
            assertThat(model.promptsPooled()).isFalse();
            assertThat(model.frozenEval()).isFalse();
        }
    }

    @Test
    void defaults() {
        VptSettings s = VptSettings.from(TestContexts.method("vpt", ""));
        assertThat(s.deep()).isTrue();
        assertThat(s.prompts()).isEqualTo(10);
        assertThat(s.dropout()).isZero();
        assertThat(s.poolPrompts()).isTrue();
        assertThat(s.frozenEval()).isTrue();
    }

    @Test
    void badSettingsNameTheKeyAndAModelWithoutTokenSitesIsRefused() {
        assertThatThrownBy(() -> VptSettings.from(TestContexts.method("vpt", "mode = medium")))
                .isInstanceOf(PeftException.class).hasMessageContaining("method.mode");
        assertThatThrownBy(() -> VptSettings.from(TestContexts.method("vpt", "prompts = 0"))).hasMessageContaining("method.prompts");
        assertThatThrownBy(() -> VptSettings.from(TestContexts.method("vpt", "dropout = 1"))).hasMessageContaining("method.dropout");
        try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(new NormSite("blocks.0.norm1", 0, D, 1e-6f))) {
            assertThatThrownBy(() -> new VptMethod().create(TestContexts.method("vpt", "")).attach(model))
                    .isInstanceOf(PeftException.class).hasMessageContaining("TOKENS").hasMessageContaining("sites-only");
        }
    }

    private static List<Fixtures.Probe> attachProbes(TinyModel model) {
        List<Fixtures.Probe> probes = new ArrayList<>();
        for (AdapterSite site : model.sites()) {
            if (site.kind() == SiteKind.TOKENS) {
                Fixtures.Probe probe = new Fixtures.Probe();
                site.attach(probe);
                probes.add(probe);
            }
        }
        return probes;
    }

    /** A probe on the output of the last FFN branch: one row per token of the last block. */
    private static Fixtures.Probe lastFfnProbe(TinyModel model) {
        AdapterSite ffn = model.sites().stream().filter(s -> s.kind() == SiteKind.FFN).reduce((a, b) -> b).orElseThrow();
        Fixtures.Probe probe = new Fixtures.Probe();
        ffn.attach(probe);
        return probe;
    }
}
