package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.methods.dmlora.DmloraTuner;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;

/** DMLoRA's default placement per backbone family, and its size at inference against LoRA's. */
class DmloraBackbonesTest {

    static MethodRegistry methods;

    @BeforeAll
    static void discover() {
        methods = MethodRegistry.discover(Path.of("no-plugins"));
    }

    private static PeftModel attach(String backbone, String method, String options, NDManager manager) {
        return TestData.attach(methods, backbone, method, options, 100, 5, manager);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "vit_micro_patch4_32|blocks.0.attn.qkv:q|blocks.3.attn.qkv:v|8",
        "swin_micro_patch4_window4_32|layers.0.blocks.0.attn.qkv:q|layers.2.blocks.1.attn.qkv:v|12",
        "convnext_micro|stages.0.blocks.0.mlp.fc1|stages.3.blocks.1.mlp.fc1|8",
    })
    void theDefaultTargetsAreThePapersPlacementForEachFamily(String backbone, String first, String last, int sites) {
        try (NDManager manager = NDManager.newBaseManager()) {
            PeftModel model = attach(backbone, "dmlora", "", manager);
            List<String> labels = List.copyOf(((DmloraTuner) model.tuner()).adapters().keySet());
            assertThat(labels).hasSize(sites).startsWith(first).endsWith(last);
            for (AdapterSite site : model.backbone().sites()) {
                assertThat(site.adapters()).as(site.id()).allMatch(a -> a.name().startsWith("dmlora"));
            }
        }
    }

    @Test
    void onViTBTheInferenceSizeIsLorasPointTwoNineMillion() {
        long lora;
        long dmlora;
        long branches;
        try (NDManager manager = NDManager.newBaseManager()) {
            lora = attach("vit_base_patch16_224", "lora", "", manager).trainableBackboneParameters();
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            PeftModel model = attach("vit_base_patch16_224", "dmlora", "", manager);
            dmlora = model.trainableBackboneParameters();
            branches = model.trainable().entrySet().stream().filter(e -> e.getKey().contains(".dmlora_"))
                    .mapToLong(e -> e.getValue().getArray().size()).sum();
        }
        System.out.printf("ViT-B/16 q,v rank 8: LoRA %,d, DMLoRA %,d at inference (%,d in 8+8 branches at the start)%n",
                lora, dmlora, branches);
        assertThat(lora).isEqualTo(12L * 2 * 8 * (768 + 768)); // 294,912: the papers' 0.29M
        assertThat(dmlora).isEqualTo(lora);
        assertThat(branches).isEqualTo(8 * lora);
    }
}
