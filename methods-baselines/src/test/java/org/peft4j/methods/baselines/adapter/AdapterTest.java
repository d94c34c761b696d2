package org.peft4j.methods.baselines.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peft4j.methods.baselines.testing.Fixtures.maxDiff;
import static org.peft4j.methods.baselines.testing.Fixtures.set;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;
import org.peft4j.methods.baselines.common.BottleneckAdapter;
import org.peft4j.methods.baselines.testing.Fixtures;

class AdapterTest {

    private static AdapterSettings settings(String overrides) {
        return AdapterSettings.from(TestContexts.method("adapter", overrides));
    }

    /** A branch site whose frozen branch is a random linear map of width {@code dim}. */
    private static SiteHarness branch(SiteKind kind, int dim, long seed) {
        LinearSite inner = LinearSite.builder().setId("blocks.0.inner").setFeatures(dim, dim)
                .optWeightInit(Initializers.normal(0.5)).build();
        String id = kind == SiteKind.ATTENTION ? "blocks.0.attn" : "blocks.0.mlp";
        return SiteHarness.of(new BranchSite(id, kind, 0, dim, inner), seed);
    }

    @Test
    void zeroInitialisedUpLeavesBothBranchesExactlyUnchanged() {
        for (SiteKind kind : new SiteKind[] {SiteKind.ATTENTION, SiteKind.FFN}) {
            try (SiteHarness h = branch(kind, 12, 1)) {
                NDArray x = h.randomInput(3, 5);
                NDArray before = h.forward(x, false);
                BottleneckAdapter a = h.attach(new BottleneckAdapter("adapter", settings("bottleneck = 4").spec(12)));
                assertThat(a.downWeight().getArray().abs().max().getFloat()).isPositive(); // down is random
                assertThat(maxDiff(h.forward(x, false), before)).isZero();
                assertThat(maxDiff(h.forward(x, true), before)).isZero();
            }
        }
    }

    @Test
    void nonZeroUpAddsScaleTimesUpOfActOfDownOfTheBranchOutput() {
        // hand-computed: branch W = 2 I, so x = [3, 1] gives out = [6, 2];
        // down [[1, -1]] + 0.5 -> 4.5, relu 4.5, up [[2], [0]] + [0, 1] -> [9, 1], * scale 0.5 -> [4.5, 0.5]
        LinearSite inner = LinearSite.builder().setId("blocks.0.inner").setFeatures(2, 2).build();
        try (SiteHarness h = SiteHarness.of(new BranchSite("blocks.0.attn", SiteKind.ATTENTION, 0, 2, inner), 2)) {
            set(inner.weight().orElseThrow(), h.manager(), 2, 0, 0, 2);
            BottleneckAdapter a = h.attach(new BottleneckAdapter("adapter",
                    settings("bottleneck = 1, activation = relu, scale = 0.5").spec(2)));
            set(a.downWeight(), h.manager(), 1, -1);
            set(a.downBias(), h.manager(), 0.5f);
            set(a.upWeight(), h.manager(), 2, 0);
            set(a.upBias(), h.manager(), 0, 1);
            NDArray out = h.forward(h.manager().create(new float[] {3, 1}, Fixtures.shape(1, 1, 2)), false);
            assertThat(out.toFloatArray()).containsExactly(10.5f, 2.5f);
        }
    }

    @Test
    void randomWeightsMatchTheFormulaWithGelu() {
        try (SiteHarness h = branch(SiteKind.FFN, 10, 3)) {
            NDArray x = h.randomInput(2, 4);
            NDArray out = h.forward(x, false);
            BottleneckAdapter a = h.attach(new BottleneckAdapter("adapter", settings("bottleneck = 3, scale = 0.7").spec(10)));
            Fixtures.randomize(a.upWeight(), h.manager(), 0, 0.5f);
            Fixtures.randomize(a.upBias(), h.manager(), 0, 0.5f);
            Fixtures.randomize(a.downBias(), h.manager(), 0, 0.5f);
            NDArray hidden = Activation.gelu(out.matMul(a.downWeight().getArray().transpose()).add(a.downBias().getArray()));
            NDArray expected = out.add(hidden.matMul(a.upWeight().getArray().transpose()).add(a.upBias().getArray()).mul(0.7f));
            NDArray actual = h.forward(x, false);
            assertThat(maxDiff(actual, out)).isGreaterThan(0.1f); // the adapter really moves the output
            assertThat(maxDiff(actual, expected)).isLessThan(1e-5f);
        }
    }

    @Test
    void atStepZeroOnlyTheUpProjectionGetsGradient() {
        try (SiteHarness h = branch(SiteKind.FFN, 6, 4)) {
            h.attach(new BottleneckAdapter("adapter", settings("bottleneck = 2, scale = 0.5").spec(6)));
            Map<String, NDArray> g = h.gradients(h.randomInput(2, 3), y -> y.sum());
            // d sum(out') / d up_bias = scale * (number of tokens) for every feature, exactly
            assertThat(g.get("adapter.up_bias").toFloatArray()).containsOnly(0.5f * 2 * 3);
            assertThat(g.get("adapter.up_weight").abs().sum().getFloat()).isPositive();
            assertThat(g.get("adapter.down_weight").abs().sum().getFloat()).isZero(); // up = 0 blocks it
            assertThat(h.site().getParameters().values().stream()
                    .filter(p -> p.getName().equals("weight")).allMatch(p -> !p.requiresGradient())).isTrue();
        }
    }

    @Test
    void initOptionsDrawTheDocumentedDistributions() {
        BottleneckAdapter xavier = new BottleneckAdapter("a", settings("bottleneck = 8, init = xavier").spec(56));
        BottleneckAdapter normal = new BottleneckAdapter("b", settings("bottleneck = 8, init = normal").spec(56));
        try (SiteHarness h = branch(SiteKind.FFN, 56, 5)) {
            h.attach(xavier);
            h.attach(normal);
            double bound = Math.sqrt(6.0 / (56 + 8));
            for (var p : new ai.djl.nn.Parameter[] {xavier.downWeight(), xavier.upWeight()}) {
                float max = p.getArray().abs().max().getFloat();
                assertThat(max).isLessThanOrEqualTo((float) bound).isGreaterThan((float) (0.95 * bound));
            }
            NDArray w = normal.upWeight().getArray();
            float std = (float) Math.sqrt(w.sub(w.mean()).square().mean().getFloat());
            assertThat(std).isBetween(0.009f, 0.011f);
            assertThat(xavier.upBias().getArray().abs().sum().getFloat()).isZero();
        }
    }

    @Test
    void pfeifferAdaptsEveryFfnAndHoulsbyAlsoEveryAttentionBranch() {
        try (TinyModel model = new TinyModel(8, 2, 3, 6)) {
            NDArray x = model.manager().randomNormal(Fixtures.shape(2, 5, 8));
            NDArray before = model.logits(x, false);
            new AdapterMethod().create(TestContexts.method("adapter", "bottleneck = 4")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0.mlp[adapter]", "blocks.1.mlp[adapter]");
            assertThat(Fixtures.trainable(model)).isEqualTo(2 * (8 * 4 + 4 + 4 * 8 + 8)); // 152
            assertThat(maxDiff(model.logits(x, false), before)).isZero();
        }
        try (TinyModel model = new TinyModel(8, 2, 3, 6)) {
            new AdapterMethod().create(TestContexts.method("adapter", "style = houlsby, bottleneck = 4")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0.attn[adapter]", "blocks.0.mlp[adapter]",
                    "blocks.1.attn[adapter]", "blocks.1.mlp[adapter]");
            assertThat(Fixtures.trainable(model)).isEqualTo(4 * 76);
        }
        try (TinyModel model = new TinyModel(8, 3, 3, 6)) {
            new AdapterMethod().create(TestContexts.method("adapter", "layers = [1]")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.1.mlp[adapter]");
        }
    }

    @Test
    void defaultsAreNoahsPfeifferAdapter() {
        AdapterSettings s = settings("");
        assertThat(s.style()).isEqualTo("pfeiffer");
        assertThat(s.bottleneck()).isEqualTo(8);
        assertThat(s.activation()).isEqualTo(BottleneckAdapter.Act.GELU);
        assertThat(s.init()).isEqualTo(BottleneckAdapter.Init.ZERO);
        assertThat(s.scale()).isEqualTo(1f);
    }

    @Test
    void badSettingsNameTheKey() {
        assertThatThrownBy(() -> settings("style = serial")).isInstanceOf(PeftException.class)
                .hasMessageContaining("method.style").hasMessageContaining("houlsby | pfeiffer");
        assertThatThrownBy(() -> settings("bottleneck = 0")).hasMessageContaining("method.bottleneck");
        assertThatThrownBy(() -> settings("activation = tanh")).hasMessageContaining("method.activation");
        assertThatThrownBy(() -> settings("init = ones")).hasMessageContaining("method.init");
        assertThatThrownBy(() -> settings("scale = 0")).hasMessageContaining("method.scale");
        assertThatThrownBy(() -> settings("layers = [-1]")).hasMessageContaining("method.layers");
    }

    @Test
    void houlsbyOnAModelWithoutAttentionBranchesIsAnErrorNotASilentPfeiffer() {
        LinearSite inner = LinearSite.builder().setId("blocks.0.inner").setFeatures(4, 4).build();
        try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(new BranchSite("blocks.0.mlp", SiteKind.FFN, 0, 4, inner))) {
            assertThatThrownBy(() -> new AdapterMethod().create(TestContexts.method("adapter", "style = houlsby"))
                    .attach(model)).isInstanceOf(PeftException.class)
                    .hasMessageContaining("method.style = houlsby").hasMessageContaining("ATTENTION");
            assertThat(model.sites().get(0).adapters()).isEmpty(); // nothing attached before the error
        }
    }
}
