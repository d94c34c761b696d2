package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.train.PeftModel;

/**
 * MoSA's default (adaptformer style, placement auto) on the three families, as the authors' code places it: ViT on
 * the residual stream with its own LayerNorm, outside layer scale and drop path; Swin inside the MLP on its normed
 * input without one; ConvNeXt on the FFN site, which reads the normed tensor already.
 */
class MosaFamilyPlacementTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "vit_micro_patch4_32, blocks.0.drop_path2, true",
        "swin_micro_patch4_window4_32, layers.0.blocks.0.mlp.inner, false",
        "convnext_micro, stages.0.blocks.0.mlp, false",
    })
    void theDefaultSitsWhereTheCodePutsItOnEachFamily(String backbone, String firstSite, boolean layerNorm) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(1);
            Backbone model = BackboneRegistry.load().build(BackboneOptions.of(backbone, 10), m);
            MixtureTuner tuner = (MixtureTuner) new MosaMethod().create(TestContexts.method("mosa", "bottleneck = 4"));
            PeftModel.assemble(model, tuner);
            List<String> sites = model.sites().stream().filter(s -> !s.adapters().isEmpty()).map(AdapterSite::id).toList();
            assertThat(sites).hasSize(model.depth()).first().isEqualTo(firstSite);
            for (MixtureAdapter adapter : tuner.adapters()) {
                assertThat(((MosaAdapter) adapter).structure().layerNorm()).isEqualTo(layerNorm);
            }
        }
    }
}
