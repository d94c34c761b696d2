package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;

/**
 * Trainable parameters on ViT-B/16 (head excluded) against the paper's tables: the merged adapter's size, whatever
 * N is. The paper's AdaptFormer-style counts leave out the adapter's LayerNorm (2 x 768 x 12 = 18,432): 0.30M at
 * bottleneck 16 (Table 2) and 1.19M at 64 (Table 3) match {@code layernorm = none}; with the LayerNorm MoSA trains
 * 0.32M / 1.21M. Pfeiffer (with its LayerNorm) 1.21M and Houlsby 2.38M (Table 14), MoSL-16 0.59M (Table 5).
 */
class MosaViTBaseCountTest {

    private static NDManager manager;
    private static Backbone vitB;

    @BeforeAll
    static void build() {
        manager = NDManager.newBaseManager();
        Engine.getInstance().setRandomSeed(1);
        vitB = BackboneRegistry.load().build(BackboneOptions.of("vit_base_patch16_224", 100), manager);
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(delimiter = '|', value = {
        "mosa|bottleneck = 16|322752|0.32",
        "mosa|bottleneck = 16, layernorm = none|304320|0.30",
        "mosa|bottleneck = 64, experts = 4|1208064|1.21",
        "mosa|bottleneck = 64, layernorm = none|1189632|1.19",
        "mosa|bottleneck = 64, style = pfeiffer|1208064|1.21",
        "mosa|bottleneck = 64, style = houlsby, split = all-sparse|2379264|2.38",
        "mosl||589824|0.59",
    })
    void countsMatchThePaper(String method, String options, long expected, double paperMillions) {
        MethodRegistry registry = MethodRegistry.discover(Path.of("no-plugins"));
        PeftModel model = PeftModel.assemble(vitB,
                registry.get(method).create(TestContexts.method(method, options == null ? "" : options)));
        try {
            long count = model.trainableBackboneParameters();
            assertThat(count).isEqualTo(expected);
            assertThat(Math.round(count / 1e4) / 100.0).isEqualTo(paperMillions);
        } finally {
            // one ViT-B for every case: take this method's adapters off again
            for (AdapterSite site : vitB.sites()) {
                for (Adapter adapter : List.copyOf(site.adapters())) {
                    site.detach(adapter);
                    adapter.clear();
                }
            }
        }
    }
}
