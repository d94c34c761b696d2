package org.peft4j.methods.baselines.adaptformer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peft4j.methods.baselines.testing.Fixtures.maxDiff;
import static org.peft4j.methods.baselines.testing.Fixtures.set;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
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

class AdaptFormerTest {

    private static AdaptFormerSettings settings(String overrides) {
        return AdaptFormerSettings.from(TestContexts.method("adaptformer", overrides));
    }

    private static SiteHarness ffn(int dim, long seed) {
        LinearSite inner = LinearSite.builder().setId("blocks.0.inner").setFeatures(dim, dim)
                .optWeightInit(Initializers.normal(0.5)).build();
        return SiteHarness.of(new BranchSite("blocks.0.mlp", SiteKind.FFN, 0, dim, inner), seed);
    }

    @Test
    void defaultsFollowAdaptFormersCode() {
        AdaptFormerSettings s = settings("");
        assertThat(s.bottleneck()).isEqualTo(64);
        assertThat(s.scale()).isEqualTo(0.1f);
        assertThat(s.layerNorm()).isFalse();
        assertThat(s.dropout()).isEqualTo(0.1f);
        assertThat(s.activation()).isEqualTo(Bottleneck.Act.RELU);
        assertThat(s.placement()).isEqualTo(Placement.AFTER_DROP_PATH);
        assertThat(s.layerNormEps()).isEqualTo(1e-5f);
        assertThat(s.frozenEval()).isFalse();
        BottleneckAdapter.Spec spec = s.spec(768);
        assertThat(spec.reads()).isEqualTo(Bottleneck.Reads.INPUT);
        assertThat(spec.init()).isEqualTo(BottleneckAdapter.Init.ZERO);
    }

    @Test
    void initIsKaimingDownAndZeroUpSoStepZeroIsExactlyTheFrozenModel() {
        for (String ln : new String[] {"none", "in"}) {
            try (SiteHarness h = ffn(16, 1)) {
                NDArray x = h.randomInput(2, 6);
                NDArray before = h.forward(x, false);
                BottleneckAdapter a = h.attach(new BottleneckAdapter("adaptformer",
                        settings("bottleneck = 32, layernorm = " + ln).spec(16)));
                float bound = (float) (1 / Math.sqrt(16)); // kaiming_uniform(a = sqrt 5): 1 / sqrt(fan_in)
                float max = a.downWeight().getArray().abs().max().getFloat();
                assertThat(max).isLessThanOrEqualTo(bound).isGreaterThan(0.95f * bound);
                assertThat(a.upWeight().getArray().abs().sum().getFloat()).isZero();
                assertThat(a.downBias().getArray().abs().sum().getFloat() + a.upBias().getArray().abs().sum().getFloat()).isZero();
                assertThat(maxDiff(h.forward(x, false), before)).isZero();
                assertThat(maxDiff(h.forward(x, true), before)).isZero(); // dropout on a zero path is still zero
            }
        }
    }

    @Test
    void nonZeroUpAddsScaledBottleneckOfTheSiteInput() {
        // hand-computed: branch W = 2 I, x = [3, 1] -> out = [6, 2]; the adapter reads x, not out:
        // down [[1, -1]] + 0.5 -> 2.5, relu 2.5, up [[2], [0]] + [0, 1] -> [5, 1], * 0.1 -> [0.5, 0.1]
        LinearSite inner = LinearSite.builder().setId("blocks.0.inner").setFeatures(2, 2).build();
        try (SiteHarness h = SiteHarness.of(new BranchSite("blocks.0.mlp", SiteKind.FFN, 0, 2, inner), 2)) {
            set(inner.weight().orElseThrow(), h.manager(), 2, 0, 0, 2);
            BottleneckAdapter a = h.attach(new BottleneckAdapter("adaptformer", settings("bottleneck = 1").spec(2)));
            set(a.downWeight(), h.manager(), 1, -1);
            set(a.downBias(), h.manager(), 0.5f);
            set(a.upWeight(), h.manager(), 2, 0);
            set(a.upBias(), h.manager(), 0, 1);
            NDArray out = h.forward(h.manager().create(new float[] {3, 1}, Fixtures.shape(1, 1, 2)), false);
            assertThat(out.toFloatArray()).containsExactly(6.5f, 2.1f);
        }
    }

    @Test
    void layerNormInUsesItsOwnWeightBiasAndEps() {
        // inputs with a variance near eps (1e-5), so a wrong eps shows; a LayerNorm with non-trivial affine terms
        for (float eps : new float[] {1e-5f, 1e-6f}) {
            try (SiteHarness h = ffn(8, 3)) {
                NDArray x = h.randomInput(2, 3).mul(3e-3f).add(1);
                NDArray out = h.forward(x, false);
                BottleneckAdapter a = h.attach(new BottleneckAdapter("adaptformer",
                        settings("bottleneck = 4, layernorm = in, activation = gelu, layernorm-eps = " + eps).spec(8)));
                Fixtures.randomize(a.upWeight(), h.manager(), 0, 0.5f);
                Parameter w = a.getParameters().get("norm_weight");
                Parameter b = a.getParameters().get("norm_bias");
                Fixtures.randomize(w, h.manager(), 1, 0.5f);
                Fixtures.randomize(b, h.manager(), 0, 0.5f);
                NDArray expected = out.add(adapterOf(Fixtures.layerNorm(x, w.getArray(), b.getArray(), eps), a));
                NDArray actual = h.forward(x, false);
                assertThat(maxDiff(actual, out)).isGreaterThan(0.01f);
                assertThat(maxDiff(actual, expected)).as("eps %s", eps).isLessThan(1e-5f);
                // the check is sensitive: the other eps gives a clearly different output
                float otherEps = eps == 1e-5f ? 1e-6f : 1e-5f;
                NDArray other = out.add(adapterOf(Fixtures.layerNorm(x, w.getArray(), b.getArray(), otherEps), a));
                assertThat(maxDiff(other, expected)).isGreaterThan(1e-3f);
            }
        }
    }

    /** 0.1 * up(gelu(down(h))) with zero biases. */
    private static NDArray adapterOf(NDArray h, BottleneckAdapter a) {
        return Activation.gelu(h.matMul(a.downWeight().getArray().transpose())).matMul(a.upWeight().getArray().transpose())
                .mul(0.1f);
    }

    @Test
    void hiddenDropoutDropsTheHiddenLayerOnlyInTraining() {
        // bottleneck 1: dropout on the hidden layer drops or rescales each token's whole adapter output (up bias 0)
        try (SiteHarness h = ffn(8, 4)) {
            NDArray x = h.randomInput(4, 50);
            NDArray base = h.forward(x, false);
            BottleneckAdapter a = h.attach(new BottleneckAdapter("adaptformer",
                    settings("bottleneck = 1, dropout = 0.5, activation = gelu").spec(8)));
            Fixtures.randomize(a.upWeight(), h.manager(), 0, 0.5f);
            NDArray eval = h.forward(x, false);
            assertThat(maxDiff(h.forward(x, false), eval)).isZero();
            assertThat(maxDiff(eval, base.add(adapterOf(x, a)))).isLessThan(1e-6f);
            RowDropout rows = RowDropout.of(h.forward(x, true).sub(base), eval.sub(base), 0.5, 1e-5);
            assertThat(rows.wholeRowsDroppedAndKept()).as(rows.toString()).isTrue();
        }
    }

    @Test
    void afterDropPathAddsTheAdapterOutsideLayerScaleAsAdaptFormersCodeAndInsideScalesIt() {
        // the residual site's post op multiplies by 0.5 (layer scale): x + 0.5 f(x) + s a(x) vs x + 0.5 (f(x) + s a(x))
        try (SiteHarness h = Fixtures.residual(6, 0.5f, 7)) {
            ResidualSite site = (ResidualSite) h.site();
            NDArray x = h.randomInput(2, 5);
            NDArray frozen = site.branch().forward(new ParameterStore(h.manager(), false), new NDList(x), false)
                    .singletonOrThrow();
            BottleneckAdapter adapter = h.attach(new BottleneckAdapter("adaptformer",
                    settings("dropout = 0, bottleneck = 3, activation = gelu").spec(6)));
            Fixtures.randomize(adapter.upWeight(), h.manager(), 0, 0.5f);
            NDArray a = adapterOf(x, adapter);
            assertThat(maxDiff(h.forward(x, false), frozen.mul(0.5f).add(a))).isLessThan(1e-6f);
            site.detach(adapter);
            site.branch().attach(adapter);
            assertThat(maxDiff(h.forward(x, false), frozen.add(a).mul(0.5f))).isLessThan(1e-6f);
        }
    }

    @Test
    void placementsPickTheResidualTheBranchOrTheMlpSites() {
        for (String[] c : new String[][] {{"after-drop-path", "drop_path2"}, {"inside", "mlp"}, {"mlp", "mlp.inner"}}) {
            try (TinyModel model = new TinyModel(8, 2, 3, 5)) {
                new AdaptFormerMethod().create(TestContexts.method("adaptformer", "placement = " + c[0])).attach(model);
                assertThat(Fixtures.adapted(model)).as(c[0])
                        .containsExactly("blocks.0." + c[1] + "[adaptformer]", "blocks.1." + c[1] + "[adaptformer]");
            }
        }
    }

    @Test
    void attachesParallelToEveryFfnAndCountsItsParameters() {
        try (TinyModel model = new TinyModel(8, 3, 3, 5)) {
            NDArray x = model.manager().randomNormal(Fixtures.shape(2, 4, 8));
            NDArray before = model.logits(x, false);
            new AdaptFormerMethod().create(TestContexts.method("adaptformer", "bottleneck = 4")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0.drop_path2[adaptformer]",
                    "blocks.1.drop_path2[adaptformer]", "blocks.2.drop_path2[adaptformer]");
            assertThat(Fixtures.trainable(model)).isEqualTo(3 * (8 * 4 + 4 + 4 * 8 + 8)); // 228
            assertThat(maxDiff(model.logits(x, false), before)).isZero();
        }
        try (TinyModel model = new TinyModel(8, 2, 3, 5)) {
            new AdaptFormerMethod().create(TestContexts.method("adaptformer", "bottleneck = 4, layernorm = in")).attach(model);
            assertThat(Fixtures.trainable(model)).isEqualTo(2 * (76 + 16)); // + LayerNorm weight and bias
        }
    }

    @Test
    void badSettingsNameTheKey() {
        assertThatThrownBy(() -> settings("layernorm = out")).isInstanceOf(PeftException.class)
                .hasMessageContaining("method.layernorm");
        assertThatThrownBy(() -> settings("dropout = 1.0")).hasMessageContaining("method.dropout");
        assertThatThrownBy(() -> settings("scale = 0")).hasMessageContaining("method.scale");
        assertThatThrownBy(() -> settings("bottleneck = -4")).hasMessageContaining("method.bottleneck");
        assertThatThrownBy(() -> settings("activation = silu")).hasMessageContaining("method.activation");
        assertThatThrownBy(() -> settings("placement = after-add")).hasMessageContaining("method.placement");
        assertThatThrownBy(() -> settings("layernorm-eps = 0")).hasMessageContaining("method.layernorm-eps");
    }
}
