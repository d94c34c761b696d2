package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.peft4j.methods.mosa.Fixtures.maxAbs;
import static org.peft4j.methods.mosa.Fixtures.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.ResidualSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.api.testing.TinyModel;

/** Each style on the sites where the authors' code puts it, with or without its own LayerNorm. */
class PlacementTest {

    private static List<String> adaptedSites(TinyModel model) {
        return model.sites().stream().filter(s -> !s.adapters().isEmpty()).map(AdapterSite::id).toList();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "style = adaptformer|blocks.0.drop_path2|true",
        "style = adaptformer, placement = after-drop-path|blocks.0.drop_path2|true",
        "style = adaptformer, placement = inside|blocks.0.mlp|true",
        "style = adaptformer, placement = mlp|blocks.0.mlp.inner|false",
        "style = pfeiffer|blocks.0.mlp|true",
    })
    void eachStyleSitsWhereTheCodePutsIt(String options, String firstSite, boolean layerNorm) {
        try (TinyModel model = Fixtures.model()) {
            MixtureTuner tuner = mosa(options);
            tuner.attach(model);
            List<String> sites = adaptedSites(model);
            assertThat(sites).hasSize(Fixtures.DEPTH).first().isEqualTo(firstSite);
            MosaAdapter adapter = (MosaAdapter) tuner.adapters().get(0);
            assertThat(adapter.structure().layerNorm()).isEqualTo(layerNorm);
            assertThat(adapter.getParameters().keys().contains("norm_weight")).isEqualTo(layerNorm);
        }
    }

    @Test
    void houlsbySitsOnTheStreamAfterBothBranchesAndDrawsFourExpertsPerBlockAndPass() {
        try (TinyModel model = Fixtures.model()) {
            MixtureTuner tuner = mosa("style = houlsby, split = all-sparse, experts = 3");
            tuner.attach(model);
            assertThat(adaptedSites(model)).hasSize(2 * Fixtures.DEPTH)
                    .contains("blocks.0.drop_path1", "blocks.0.drop_path2");
            assertThat(tuner.router().sides()).hasSize(4 * Fixtures.DEPTH);
            assertThat(((MosaAdapter) tuner.adapters().get(0)).structure().reads()).isEqualTo(Bottleneck.Reads.STREAM);
        }
    }

    @Test
    void placementIsAnAdaptFormerStyleOption() {
        assertThatThrownBy(() -> mosa("style = houlsby, placement = mlp"))
                .isInstanceOf(PeftException.class).hasMessageContaining("method.placement");
    }

    @Test
    void onTheStreamTheAdapterReadsTheBranchInputPlusItsOutput() {
        int d = 6;
        LinearSite branch = LinearSite.builder().setId("blocks.0.mlp.fc").setFeatures(d, d).optDepth(0)
                .optWeightInit(Initializers.normal(0.4)).build();
        BranchSite ffn = new BranchSite("blocks.0.mlp", SiteKind.FFN, 0, d, branch);
        try (SiteHarness h = SiteHarness.of(new ResidualSite("blocks.0.drop_path2", ffn, null), 2)) {
            MosaAdapter.Structure structure = new MosaAdapter.Structure(d, 3, Bottleneck.Reads.STREAM, false, 1e-6f, Bottleneck.Act.SILU,
                    1f, 0f);
            MosaAdapter adapter = h.attach(new MosaAdapter("mosa", structure,
                    new MosaAdapter.Layout(1, Split.DENSE, false), Merge.EXPECTATION, new Random(1)));
            Parameter up = adapter.getParameters().get("up_weight");
            up.getArray().addi(h.manager().randomNormal(up.getShape()));
            NDArray x = h.randomInput(2, 3);
            NDArray z = branch.forward(new ai.djl.training.ParameterStore(h.manager(), false), new ai.djl.ndarray.NDList(x), false)
                    .singletonOrThrow();
            NDArray stream = x.add(z);
            NDArray[] w = new NDArray[4];
            String[] names = {"down_weight", "down_bias", "up_weight", "up_bias"};
            for (int i = 0; i < 4; i++) {
                w[i] = adapter.getParameters().get(names[i]).getArray();
            }
            // the block adds the site's output to x: x + z + A(x + z), Houlsby on the stream after the add
            NDArray expected = z.add(MosaAdapter.apply(structure, stream, null, w, false));
            assertThat(maxAbs(h.forward(x, false), expected)).isLessThanOrEqualTo(1e-6f);
        }
    }
}
