package org.peft4j.methods.baselines.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.analysis.RankOneFactors;
import org.peft4j.api.analysis.RankOneSimilarity;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.testing.RowDropout;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;
import org.peft4j.methods.baselines.testing.Fixtures;

class LoraTest {

    private static LoraSettings settings(String overrides) {
        return LoraSettings.from(TestContexts.method("lora", overrides));
    }

    /** Makes B non-zero, as after some training. */
    private static void train(LoraAdapter adapter, SiteHarness h) {
        Parameter b = adapter.b();
        b.getArray().intern(h.manager().randomNormal(0f, 0.5f, b.getShape(), b.getArray().getDataType()));
        b.getArray().setRequiresGradient(true);
    }

    @Test
    void startsAsTheFrozenModelBecauseBIsZero() {
        try (SiteHarness h = SiteHarness.linear(8, 24, SiteHarness.qkvSlices(8), 1)) {
            NDArray x = h.randomInput(2, 5);
            NDArray before = h.forward(x, false);
            h.attach(new LoraAdapter("lora_q", 8, 24, h.site().slice("q"), settings("rank = 4")));
            assertThat(h.forward(x, false).sub(before).abs().max().getFloat()).isZero();
        }
    }

    @Test
    void mergedEqualsUnmergedOnSlicesAndWholeOutputs() {
        try (SiteHarness h = SiteHarness.linear(8, 24, SiteHarness.qkvSlices(8), 2)) {
            LoraSettings s = settings("rank = 4, alpha = 16");
            train(h.attach(new LoraAdapter("lora_q", 8, 24, h.site().slice("q"), s)), h);
            train(h.attach(new LoraAdapter("lora_v", 8, 24, h.site().slice("v"), s)), h);
            train(h.attach(new LoraAdapter("lora", 8, 24, null, s)), h);
            NDArray x = h.randomInput(3, 7);
            NDArray unmerged = h.forward(x, false);
            assertThat(h.maxMergeDifference(x)).isLessThanOrEqualTo(1e-5);
            // and the delta is real: k rows are untouched by q/v adapters but not by the whole-output one
            assertThat(unmerged.abs().max().getFloat()).isPositive();
        }
    }

    @Test
    void scaleIsAlphaOverRankAndOnlyTheSliceMoves() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 3)) {
            NDArray x = h.randomInput(1, 2);
            NDArray base = h.forward(x, false);
            LoraAdapter lora = h.attach(new LoraAdapter("lora_v", 4, 12, h.site().slice("v"), settings("rank = 2, alpha = 6")));
            train(lora, h);
            NDArray out = h.forward(x, false);
            NDArray expected = x.matMul(lora.a().getArray().transpose()).matMul(lora.b().getArray().transpose()).mul(3f);
            assertThat(out.get("..., 0:8").sub(base.get("..., 0:8")).abs().max().getFloat()).isZero();
            assertThat(out.get("..., 8:12").sub(base.get("..., 8:12")).sub(expected).abs().max().getFloat()).isLessThan(1e-5f);
        }
    }

    @Test
    void gradientFlowsToBAtInitAndToBothOnceBMoves() {
        try (SiteHarness h = SiteHarness.linear(6, 18, SiteHarness.qkvSlices(6), 4)) {
            LoraAdapter lora = h.attach(new LoraAdapter("lora_q", 6, 18, h.site().slice("q"), settings("rank = 2")));
            NDArray x = h.randomInput(2, 3);
            Map<String, NDArray> g = h.gradients(x, y -> y.square().sum());
            assertThat(g.get("lora_q.lora_A").abs().sum().getFloat()).isZero(); // dL/dA = B^T(...) = 0 while B = 0
            assertThat(g.get("lora_q.lora_B").abs().sum().getFloat()).isPositive();
            train(lora, h);
            g = h.gradients(x, y -> y.square().sum());
            assertThat(g.get("lora_q.lora_A").abs().sum().getFloat()).isPositive();
            assertThat(h.site().weight().orElseThrow().getArray().hasGradient()).isFalse();
        }
    }

    @Test
    void attachesToTheDefaultTargetsOfEveryBlock() {
        try (TinyModel model = new TinyModel(8, 3, 4, 5)) {
            new LoraMethod().create(TestContexts.method("lora", "")).attach(model);
            List<String> adapted = model.sites().stream().filter(s -> !s.adapters().isEmpty())
                    .map(s -> s.id() + s.adapters().stream().map(a -> "/" + a.name()).toList()).toList();
            assertThat(adapted).containsExactly("blocks.0.attn.qkv[/lora_q, /lora_v]",
                    "blocks.1.attn.qkv[/lora_q, /lora_v]", "blocks.2.attn.qkv[/lora_q, /lora_v]");
            AdapterSite qkv = model.site("blocks.0.attn.qkv").orElseThrow();
            assertThat(qkv.adapters().get(0).getParameters().values().stream().allMatch(Parameter::requiresGradient)).isTrue();
        }
    }

    @Test
    void inputDropoutDropsWholeInputsOnlyInTraining() {
        // in = 1: dropout on x drops or rescales each token's whole delta; on the output it would drop single entries
        try (SiteHarness h = SiteHarness.linear(1, 6, List.of(), 12)) {
            NDArray x = h.randomInput(4, 50);
            NDArray base = h.forward(x, false);
            LoraAdapter lora = h.attach(new LoraAdapter("lora", 1, 6, null, settings("rank = 2, alpha = 4, dropout = 0.3")));
            train(lora, h);
            NDArray eval = h.forward(x, false);
            assertThat(eval.sub(h.forward(x, false)).abs().max().getFloat()).isZero();
            NDArray formula = x.matMul(lora.a().getArray().transpose()).matMul(lora.b().getArray().transpose()).mul(2f);
            assertThat(eval.sub(base).sub(formula).abs().max().getFloat()).isLessThan(1e-5f);
            RowDropout rows = RowDropout.of(h.forward(x, true).sub(base), eval.sub(base), 0.3, 1e-5);
            assertThat(rows.wholeRowsDroppedAndKept()).as(rows.toString()).isTrue();
        }
    }

    @Test
    void aStartsKaimingUniformWithBoundOneOverSqrtFanInOrGaussianWithStdOneOverRank() {
        try (SiteHarness h = SiteHarness.linear(64, 48, List.of(), 13)) {
            LoraAdapter kaiming = h.attach(new LoraAdapter("k", 64, 48, null, settings("rank = 16")));
            LoraAdapter gaussian = h.attach(new LoraAdapter("g", 64, 48, null, settings("rank = 16, init = gaussian")));
            float max = kaiming.a().getArray().abs().max().getFloat();
            assertThat(max).isLessThanOrEqualTo(0.125f).isGreaterThan(0.95f * 0.125f); // 1 / sqrt(64)
            NDArray g = gaussian.a().getArray();
            assertThat((float) Math.sqrt(g.square().mean().getFloat())).isBetween(0.9f / 16, 1.1f / 16);
            assertThat(kaiming.b().getArray().abs().max().getFloat()).isZero();
        }
        // a conv's A: fan-in = in/groups * k * k = 16 * 2 * 2
        ConvSite conv = new ConvSite("stages.1.downsample.1", -1, new ConvSite.Geometry(16, 8, 2, 2, 0, 1), Initializers.normal(0.1));
        try (SiteHarness h = SiteHarness.of(conv, 14)) {
            LoraConvAdapter lora = h.attach(new LoraConvAdapter("lora", conv.geometry(), settings("rank = 16")));
            assertThat(lora.a().getShape()).isEqualTo(new Shape(16, 64));
            float max = lora.a().getArray().abs().max().getFloat();
            assertThat(max).isLessThanOrEqualTo(0.125f).isGreaterThan(0.95f * 0.125f);
        }
    }

    @Test
    void convLoraUpdatesTheFlattenedKernelAndMergesExactlyForPlainAndDepthwiseConvs() {
        for (ConvSite.Geometry g : List.of(new ConvSite.Geometry(4, 6, 2, 2, 0, 1), new ConvSite.Geometry(6, 6, 3, 1, 1, 6))) {
            ConvSite conv = new ConvSite("blocks.0.conv", 0, g, Initializers.normal(0.3));
            try (SiteHarness h = SiteHarness.of(conv, 15)) {
                Fixtures.randomize(conv.bias().orElseThrow(), h.manager(), 0, 0.1f);
                NDArray x = h.manager().randomNormal(new Shape(2, g.in(), 6, 6));
                LoraConvAdapter lora = h.attach(new LoraConvAdapter("lora", g, settings("rank = 2, alpha = 6")));
                Fixtures.randomize(lora.b(), h.manager(), 0, 0.5f);
                NDArray w = conv.weight().orElseThrow().getArray();
                NDArray delta = lora.b().getArray().matMul(lora.a().getArray()).mul(3f).reshape(w.getShape());
                NDArray expected = g.convolve(x, w.add(delta), conv.bias().orElseThrow().getArray());
                assertThat(h.forward(x, false).sub(expected).abs().max().getFloat()).as("%s", g).isLessThan(1e-5f);
                assertThat(h.maxMergeDifference(x)).as("%s", g).isLessThanOrEqualTo(1e-5);
            }
        }
    }

    @Test
    void frozenEvalIsAskedOfTheModelOnlyWhenSet() {
        for (boolean on : new boolean[] {false, true}) {
            try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(LinearSite.builder().setId("blocks.0.attn.qkv")
                    .setFeatures(4, 12).optSlices(SiteHarness.qkvSlices(4)).build())) {
                new LoraMethod().create(TestContexts.method("lora", "frozen-eval = " + on)).attach(model);
                assertThat(model.frozenEval()).isEqualTo(on);
            }
        }
    }

    @Test
    void badSettingsNameTheKey() {
        assertThatThrownBy(() -> settings("rank = 0")).isInstanceOf(PeftException.class).hasMessageContaining("method.rank");
        assertThatThrownBy(() -> settings("init = xavier")).hasMessageContaining("method.init");
        try (TinyModel model = new TinyModel(8, 2, 4, 5)) {
            assertThatThrownBy(() -> new LoraMethod().create(TestContexts.method("lora", "targets = [attn.qkvv]")).attach(model))
                    .hasMessageContaining("'attn.qkvv'").hasMessageContaining("method.targets");
        }
    }

    @Test
    void rankOneComponentsAreColumnsOfBTimesRowsOfA() {
        try (SiteHarness h = SiteHarness.linear(5, 15, SiteHarness.qkvSlices(5), 6)) {
            LoraAdapter lora = h.attach(new LoraAdapter("lora_v", 5, 15, h.site().slice("v"), settings("rank = 3, alpha = 6")));
            train(lora, h);
            RankOneFactors f = lora.rankOneFactors();
            assertThat(f.rank()).isEqualTo(3);
            assertThat(f.in()).isEqualTo(5);
            assertThat(f.out()).isEqualTo(5); // the v slice's rows
            assertThat(f.coefficients()).containsExactly(2f, 2f, 2f);
            float[] a = lora.a().getArray().toFloatArray();
            float[] b = lora.b().getArray().toFloatArray(); // [out, r]
            // sum_i c_i b_i a_i^T rebuilds the merged delta scale * B A, entry by entry
            float[] delta = lora.b().getArray().matMul(lora.a().getArray()).mul(2f).toFloatArray();
            for (int row = 0; row < 5; row++) {
                for (int col = 0; col < 5; col++) {
                    double sum = 0;
                    for (int i = 0; i < 3; i++) {
                        assertThat(f.b()[i * 5 + row]).isEqualTo(b[row * 3 + i]);
                        assertThat(f.a()[i * 5 + col]).isEqualTo(a[i * 5 + col]);
                        sum += f.coefficients()[i] * f.b()[i * 5 + row] * f.a()[i * 5 + col];
                    }
                    assertThat(sum).isCloseTo(delta[row * 5 + col], org.assertj.core.api.Assertions.within(1e-5));
                }
            }
            // the A.4 measure: cosine of flattened column-of-B x row-of-A matrices, checked for pair (0, 1)
            double dot = 0;
            double n0 = 0;
            double n1 = 0;
            for (int row = 0; row < 5; row++) {
                for (int col = 0; col < 5; col++) {
                    double e0 = (double) b[row * 3] * a[col];
                    double e1 = (double) b[row * 3 + 1] * a[5 + col];
                    dot += e0 * e1;
                    n0 += e0 * e0;
                    n1 += e1 * e1;
                }
            }
            assertThat(RankOneSimilarity.cosine(f, 0, 1)).isCloseTo(dot / Math.sqrt(n0 * n1),
                    org.assertj.core.api.Assertions.within(1e-9));
        }
    }
}
