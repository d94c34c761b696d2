package org.peft4j.methods.baselines.ssf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peft4j.methods.baselines.testing.Fixtures.maxDiff;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.IdentitySite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.NormSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;
import org.peft4j.methods.baselines.testing.Fixtures;

class SsfTest {

    /** Gives scale and shift clearly non-trivial values (as after training). */
    private static void train(SsfAdapter ssf, SiteHarness h) {
        Fixtures.randomize(ssf.scale(), h.manager(), 1f, 0.5f);
        Fixtures.randomize(ssf.shift(), h.manager(), 0f, 0.5f);
    }

    @Test
    void forwardIsScaleTimesOutputPlusShift() {
        try (SiteHarness h = SiteHarness.linear(6, 18, SiteHarness.qkvSlices(6), 1)) {
            NDArray x = h.randomInput(2, 3);
            NDArray frozen = h.forward(x, false);
            SsfAdapter ssf = h.attach(new SsfAdapter(18, SiteKind.LINEAR, true));
            train(ssf, h);
            NDArray expected = frozen.mul(ssf.scale().getArray()).add(ssf.shift().getArray());
            assertThat(maxDiff(h.forward(x, false), expected)).isLessThan(1e-6f);
            assertThat(maxDiff(expected, frozen)).isGreaterThan(0.1f);
        }
    }

    @Test
    void mergedEqualsUnmergedOnALinearSiteAndTheWeightsAreTheFormula() {
        try (SiteHarness h = SiteHarness.linear(16, 48, SiteHarness.qkvSlices(16), 2)) {
            Parameter w = h.site().weight().orElseThrow();
            Parameter b = h.site().bias().orElseThrow();
            NDArray w0 = w.getArray().duplicate();
            NDArray b0 = b.getArray().duplicate();
            SsfAdapter ssf = h.attach(new SsfAdapter(48, SiteKind.LINEAR, true));
            train(ssf, h);
            assertThat(ssf.foldable()).isTrue();
            NDArray x = h.randomInput(4, 7);
            double diff = h.maxMergeDifference(x);
            assertThat(diff).isLessThanOrEqualTo(1e-5);

            NDArray g = ssf.scale().getArray();
            h.site().merge();
            assertThat(maxDiff(w.getArray(), w0.mul(g.reshape(48, 1)))).isLessThan(1e-6f);
            assertThat(maxDiff(b.getArray(), b0.mul(g).add(ssf.shift().getArray()))).isLessThan(1e-6f);
            h.site().unmerge();
            assertThat(maxDiff(w.getArray(), w0)).isZero(); // exact restore
            assertThat(maxDiff(b.getArray(), b0)).isZero();
        }
    }

    @Test
    void mergedEqualsUnmergedOnANormSite() {
        try (SiteHarness h = SiteHarness.of(new NormSite("blocks.0.norm1", 0, 32, 1e-6f), 3)) {
            // a pretrained-looking affine: weight ~ N(1, 0.3), bias ~ N(0, 0.3)
            Fixtures.randomize(h.site().weight().orElseThrow(), h.manager(), 1f, 0.3f);
            Fixtures.randomize(h.site().bias().orElseThrow(), h.manager(), 0f, 0.3f);
            SsfAdapter ssf = h.attach(new SsfAdapter(32, SiteKind.NORM, true));
            train(ssf, h);
            NDArray x = h.randomInput(3, 5).mul(2).add(0.5f);
            NDArray unmerged = h.forward(x, false);
            double diff = h.maxMergeDifference(x);
            assertThat(diff).isLessThanOrEqualTo(1e-5);
            assertThat(unmerged.abs().max().getFloat()).isGreaterThan(1f);
            NDArray w = h.site().weight().orElseThrow().getArray().duplicate();
            h.site().merge();
            assertThat(maxDiff(h.site().weight().orElseThrow().getArray(), w.mul(ssf.scale().getArray()))).isLessThan(1e-6f);
            assertThat(h.site().adapters()).hasSize(1); // still attached, but folded: nothing runs at inference
            h.site().unmerge();
        }
    }

    @Test
    void aLinearSiteWithoutBiasCannotAbsorbTheShiftAndStaysUnmerged() {
        LinearSite noBias = LinearSite.builder().setId("blocks.0.mlp.fc2").setFeatures(8, 4).optBias(false).build();
        try (SiteHarness h = SiteHarness.of(noBias, 4)) {
            NDArray w0 = noBias.weight().orElseThrow().getArray().duplicate();
            SsfAdapter ssf = h.attach(new SsfAdapter(4, SiteKind.LINEAR, false));
            train(ssf, h);
            assertThat(ssf.foldable()).isFalse();
            NDArray x = h.randomInput(2, 3);
            assertThat(h.maxMergeDifference(x)).isZero(); // the same ops run merged and unmerged
            h.site().merge();
            assertThat(maxDiff(noBias.weight().orElseThrow().getArray(), w0)).isZero();
            h.site().unmerge();
        }
    }

    @Test
    void initIsNormalAroundOneAndZeroWithStd002() {
        try (SiteHarness h = SiteHarness.of(new NormSite("norm", -1, 4096, 1e-6f), 5)) {
            SsfAdapter ssf = h.attach(new SsfAdapter(4096, SiteKind.NORM, true));
            NDArray g = ssf.scale().getArray();
            NDArray s = ssf.shift().getArray();
            assertThat(g.mean().getFloat()).isBetween(0.998f, 1.002f);
            assertThat(s.mean().getFloat()).isBetween(-0.002f, 0.002f);
            assertThat((float) Math.sqrt(g.sub(g.mean()).square().mean().getFloat())).isBetween(0.019f, 0.021f);
            assertThat((float) Math.sqrt(s.square().mean().getFloat())).isBetween(0.019f, 0.021f);
        }
    }

    @Test
    void defaultTargetsFollowEveryLinearAndNormAndTheModelMergesExactly() {
        try (TinyModel model = new TinyModel(8, 2, 4, 6)) {
            new SsfMethod().create(TestContexts.method("ssf", "")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("blocks.0.norm1[ssf]", "blocks.0.attn.qkv[ssf]",
                    "blocks.0.attn.proj[ssf]", "blocks.0.norm2[ssf]", "blocks.0.mlp.fc1[ssf]", "blocks.0.mlp.fc2[ssf]",
                    "blocks.1.norm1[ssf]", "blocks.1.attn.qkv[ssf]", "blocks.1.attn.proj[ssf]", "blocks.1.norm2[ssf]",
                    "blocks.1.mlp.fc1[ssf]", "blocks.1.mlp.fc2[ssf]");
            // per block 2 x (norm1 8 + qkv 24 + proj 8 + norm2 8 + fc1 16 + fc2 8)
            assertThat(Fixtures.trainable(model)).isEqualTo(2 * 2 * 72);
            for (AdapterSite site : model.sites()) {
                for (var adapter : site.adapters()) {
                    SsfAdapter ssf = (SsfAdapter) adapter;
                    Fixtures.randomize(ssf.scale(), model.manager(), 1f, 0.3f);
                    Fixtures.randomize(ssf.shift(), model.manager(), 0f, 0.3f);
                }
            }
            NDArray x = model.manager().randomNormal(Fixtures.shape(2, 5, 8));
            NDArray unmerged = model.logits(x, false);
            model.sites().forEach(AdapterSite::merge);
            NDArray merged = model.logits(x, false);
            model.sites().forEach(AdapterSite::unmerge);
            assertThat(maxDiff(merged, unmerged)).isLessThanOrEqualTo(1e-5f);
            assertThat(maxDiff(unmerged, model.logits(x, false))).isZero();
            assertThat(maxDiff(model.logits(x, false), unmerged)).isZero();
        }
    }

    @Test
    void onAConvSiteItScalesAndShiftsEachChannelAndFoldsIntoTheFilters() {
        for (ConvSite.Geometry g : List.of(new ConvSite.Geometry(3, 6, 4, 4, 0, 1), new ConvSite.Geometry(6, 6, 7, 1, 3, 6))) {
            ConvSite conv = new ConvSite("stem.0", -1, g, Initializers.normal(0.3));
            try (SiteHarness h = SiteHarness.of(conv, 16)) {
                Fixtures.randomize(conv.bias().orElseThrow(), h.manager(), 0, 0.1f);
                NDArray x = h.manager().randomNormal(new Shape(2, g.in(), 8, 8));
                NDArray y = h.forward(x, false);
                SsfAdapter ssf = h.attach(new SsfAdapter(6, SiteKind.CONV, true));
                Fixtures.randomize(ssf.scale(), h.manager(), 1f, 0.3f);
                Fixtures.randomize(ssf.shift(), h.manager(), 0f, 0.3f);
                // channel c of y' is gamma_c * y_c + beta_c (dimension 1 of NCHW)
                NDArray expected = y.mul(ssf.scale().getArray().reshape(6, 1, 1)).add(ssf.shift().getArray().reshape(6, 1, 1));
                assertThat(maxDiff(h.forward(x, false), expected)).isLessThan(1e-6f);
                assertThat(ssf.foldable()).isTrue();
                assertThat(h.maxMergeDifference(x)).isLessThanOrEqualTo(1e-5);
            }
        }
    }

    @Test
    void onAnIdentitySiteNothingFoldsSoItKeepsRunningMerged() {
        try (SiteHarness h = SiteHarness.of(new IdentitySite("norm_pre", -1, 5), 17)) {
            NDArray x = h.randomInput(2, 3).reshape(2, 3, 1, 5);
            SsfAdapter ssf = h.attach(new SsfAdapter(5, SiteKind.IDENTITY, false));
            Fixtures.randomize(ssf.shift(), h.manager(), 0f, 0.3f);
            assertThat(ssf.foldable()).isFalse();
            NDArray expected = x.mul(ssf.scale().getArray()).add(ssf.shift().getArray());
            assertThat(maxDiff(h.forward(x, false), expected)).isLessThan(1e-6f);
            assertThat(h.maxMergeDifference(x)).isZero();
        }
    }

    @Test
    void defaultsFollowSsfsCodeAndLeaveOutTheBiasFreeReductionAndThePooledNorms() {
        SsfSettings s = SsfSettings.from(TestContexts.method("ssf", ""));
        assertThat(s.targets()).containsExactly("**");
        assertThat(s.exclude()).containsExactly("downsample.reduction", "fc_norm", "head.norm");
        LinearSite reduction = LinearSite.builder().setId("layers.1.downsample.reduction").setFeatures(8, 4).optBias(false).build();
        NormSite fcNorm = new NormSite("fc_norm", -1, 4, 1e-6f);
        NormSite headNorm = new NormSite("head.norm", -1, 4, 1e-6f);
        IdentitySite beforePool = new IdentitySite("norm_pre", -1, 4);
        ConvSite stem = new ConvSite("stem.0", -1, new ConvSite.Geometry(3, 4, 4, 4, 0, 1), Initializers.normal(0.1));
        try (Fixtures.SitesOnly model = new Fixtures.SitesOnly(stem, reduction, beforePool, fcNorm, headNorm)) {
            new SsfMethod().create(TestContexts.method("ssf", "")).attach(model);
            assertThat(Fixtures.adapted(model)).containsExactly("stem.0[ssf]", "norm_pre[ssf]");
        }
    }

    @Test
    void badTargetsNameTheKey() {
        assertThatThrownBy(() -> new SsfMethod().create(TestContexts.method("ssf", "targets = []")))
                .isInstanceOf(PeftException.class).hasMessageContaining("method.targets");
        assertThatThrownBy(() -> new SsfMethod().create(TestContexts.method("ssf", "layers = [-2]")))
                .hasMessageContaining("method.layers");
        try (TinyModel model = new TinyModel(8, 1, 4, 7)) {
            assertThatThrownBy(() -> new SsfMethod().create(TestContexts.method("ssf", "targets = [\"attn.qkv:q\"]")).attach(model))
                    .isInstanceOf(PeftException.class).hasMessageContaining("method.targets").hasMessageContaining("slice");
            assertThatThrownBy(() -> new SsfMethod().create(TestContexts.method("ssf", "targets = [attn.qvk]")).attach(model))
                    .hasMessageContaining("method.targets").hasMessageContaining("'attn.qvk'");
            assertThatThrownBy(() -> new SsfMethod().create(TestContexts.method("ssf", "targets = [mlp]")).attach(model))
                    .hasMessageContaining("FFN"); // a branch site is not LINEAR / NORM / CONV / IDENTITY
            assertThat(model.sites().stream().allMatch(s -> s.adapters().isEmpty())).isTrue();
        }
    }
}
