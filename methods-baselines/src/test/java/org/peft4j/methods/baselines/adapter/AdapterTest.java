package org.peft4j.methods.baselines.adapter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peft4j.methods.baselines.testing.Fixtures.maxDiff;
import static org.peft4j.methods.baselines.testing.Fixtures.set;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.Placement;
import org.peft4j.api.site.ResidualSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.RowDropout;
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
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0.drop_path2[adapter]", "blocks.1.drop_path2[adapter]");
            assertThat(Fixtures.trainable(model)).isEqualTo(2 * (8 * 4 + 4 + 4 * 8 + 8)); // 152
            assertThat(maxDiff(model.logits(x, false), before)).isZero();
        }
        try (TinyModel model = new TinyModel(8, 2, 3, 6)) {
            new AdapterMethod().create(TestContexts.method("adapter", "style = houlsby, bottleneck = 4")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0.drop_path1[adapter]", "blocks.0.drop_path2[adapter]",
                    "blocks.1.drop_path1[adapter]", "blocks.1.drop_path2[adapter]");
            assertThat(Fixtures.trainable(model)).isEqualTo(4 * 76);
        }
        try (TinyModel model = new TinyModel(8, 2, 3, 6)) {
            new AdapterMethod().create(TestContexts.method("adapter", "style = houlsby, placement = inside")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0.attn[adapter]", "blocks.0.mlp[adapter]",
                    "blocks.1.attn[adapter]", "blocks.1.mlp[adapter]");
        }
        try (TinyModel model = new TinyModel(8, 3, 3, 6)) {
            new AdapterMethod().create(TestContexts.method("adapter", "layers = [1]")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.1.drop_path2[adapter]");
        }
    }

    @Test
    void afterDropPathReadsWhatTheDropPathLeavesAndAfterAddTheStreamAfterTheAdd() {
        // the residual site scales the branch by 0.5 (layer scale): z = 0.5 W x
        for (String placement : new String[] {"after-drop-path", "after-add"}) {
            try (SiteHarness h = Fixtures.residual(6, 0.5f, 8)) {
                ResidualSite site = (ResidualSite) h.site();
                NDArray x = h.randomInput(2, 5);
                NDArray z = site.branch().forward(new ParameterStore(h.manager(), false), new NDList(x), false)
                        .singletonOrThrow().mul(0.5f);
                BottleneckAdapter a = h.attach(new BottleneckAdapter("adapter",
                        settings("bottleneck = 3, placement = " + placement).spec(6)));
                Fixtures.randomize(a.upWeight(), h.manager(), 0, 0.5f);
                // NOAH: x + (z + f(z)); MoSA's Houlsby: (x + z) + f(x + z), here as x + (z + f(x + z))
                NDArray read = placement.equals("after-add") ? x.add(z) : z;
                NDArray expected = z.add(Activation.gelu(read.matMul(a.downWeight().getArray().transpose()))
                        .matMul(a.upWeight().getArray().transpose()));
                assertThat(maxDiff(h.forward(x, false), expected)).as(placement).isLessThan(1e-6f);
            }
        }
    }

    @Test
    void everyActivationIsItsFormula() {
        for (String act : Bottleneck.Act.names()) {
            try (SiteHarness h = branch(SiteKind.FFN, 6, 9)) {
                NDArray x = h.randomInput(2, 4);
                NDArray out = h.forward(x, false);
                BottleneckAdapter a = h.attach(new BottleneckAdapter("adapter",
                        settings("bottleneck = 5, activation = " + act).spec(6)));
                Fixtures.randomize(a.upWeight(), h.manager(), 0, 0.5f);
                NDArray z = out.matMul(a.downWeight().getArray().transpose());
                NDArray hidden = switch (act) {
                    case "gelu" -> Activation.gelu(z);
                    case "relu" -> z.maximum(0f);
                    case "silu" -> z.div(z.neg().exp().add(1f));
                    default -> z.div(z.mul(-1.702f).exp().add(1f)); // quick-gelu: x sigmoid(1.702 x)
                };
                NDArray expected = out.add(hidden.matMul(a.upWeight().getArray().transpose()));
                assertThat(maxDiff(h.forward(x, false), expected)).as(act).isLessThan(1e-6f);
            }
        }
    }

    @Test
    void inputLayerNormUsesItsOwnWeightBiasAndMoSasEps() {
        try (SiteHarness h = branch(SiteKind.FFN, 8, 10)) {
            // a branch output whose variance is near 1e-6, so eps matters
            NDArray x = h.randomInput(2, 3).mul(2e-3f);
            NDArray out = h.forward(x, false);
            BottleneckAdapter a = h.attach(new BottleneckAdapter("adapter",
                    settings("bottleneck = 4, layernorm = in, activation = relu").spec(8)));
            Fixtures.randomize(a.upWeight(), h.manager(), 0, 0.5f);
            Parameter w = a.getParameters().get("norm_weight");
            Parameter b = a.getParameters().get("norm_bias");
            Fixtures.randomize(w, h.manager(), 1, 0.5f);
            Fixtures.randomize(b, h.manager(), 0, 0.5f);
            NDArray normed = Fixtures.layerNorm(out, w.getArray(), b.getArray(), 1e-6f);
            NDArray expected = out.add(normed.matMul(a.downWeight().getArray().transpose()).maximum(0f)
                    .matMul(a.upWeight().getArray().transpose()));
            assertThat(maxDiff(h.forward(x, false), expected)).isLessThan(1e-5f);
            NDArray otherEps = Fixtures.layerNorm(out, w.getArray(), b.getArray(), 1e-5f);
            assertThat(maxDiff(otherEps, normed)).isGreaterThan(1e-2f); // eps is not negligible here
        }
    }

    @Test
    void hiddenDropoutDropsTheHiddenLayerOnlyInTraining() {
        try (SiteHarness h = branch(SiteKind.FFN, 8, 11)) {
            NDArray x = h.randomInput(4, 50);
            NDArray base = h.forward(x, false);
            BottleneckAdapter a = h.attach(new BottleneckAdapter("adapter",
                    settings("bottleneck = 1, dropout = 0.1, activation = quick-gelu").spec(8)));
            Fixtures.randomize(a.upWeight(), h.manager(), 0, 0.5f);
            NDArray eval = h.forward(x, false);
            assertThat(maxDiff(h.forward(x, false), eval)).isZero();
            RowDropout rows = RowDropout.of(h.forward(x, true).sub(base), eval.sub(base), 0.1, 1e-5);
            assertThat(rows.wholeRowsDroppedAndKept()).as(rows.toString()).isTrue();
        }
    }

    @Test
    void defaultsAreNoahsPfeifferAdapter() {
        AdapterSettings s = settings("");
        assertThat(s.style()).isEqualTo("pfeiffer");
        assertThat(s.bottleneck()).isEqualTo(8);
        assertThat(s.activation()).isEqualTo(Bottleneck.Act.GELU);
        assertThat(s.init()).isEqualTo(BottleneckAdapter.Init.ZERO);
        assertThat(s.scale()).isEqualTo(1f);
        assertThat(s.placement()).isEqualTo(Placement.AFTER_DROP_PATH);
        assertThat(s.dropout()).isZero();
        assertThat(s.layerNorm()).isFalse();
        assertThat(s.frozenEval()).isFalse();
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
        assertThatThrownBy(() -> settings("placement = mlp")).hasMessageContaining("method.placement")
                .hasMessageContaining("after-drop-path | inside | after-add");
        assertThatThrownBy(() -> settings("dropout = 1")).hasMessageContaining("method.dropout");
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
