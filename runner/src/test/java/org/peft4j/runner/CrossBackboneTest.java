package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.PeftException;
import org.peft4j.api.StepContext;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;

/** One method config, three backbone families: it works where the site kinds exist and says which targets are missing. */
class CrossBackboneTest {

    static MethodRegistry methods;

    @BeforeAll
    static void discover() {
        methods = MethodRegistry.discover(Path.of("no-plugins"));
    }

    private static PeftModel attach(String backbone, String method, String options, NDManager manager) {
        return TestData.attach(methods, backbone, method, options, 10, 11, manager);
    }

    /** Makes every trainable tensor non-trivial (as after training), so merges have something to fold. */
    private static void perturb(PeftModel model, NDManager manager) {
        for (Parameter p : model.trainable().values()) {
            NDArray noise = manager.randomNormal(0f, 0.05f, p.getShape(), p.getArray().getDataType());
            p.getArray().addi(noise);
        }
    }

    @ParameterizedTest(name = "{1} on {0}")
    @CsvSource(delimiter = '|', value = {
        "vit_micro_patch4_32|lora|targets = [\"attn.qkv:q\", \"attn.qkv:v\", mlp.fc1]",
        "swin_micro_patch4_window4_32|lora|targets = [\"attn.qkv:q\", \"attn.qkv:v\", mlp.fc1]",
        "convnext_micro|lora|targets = [mlp.fc1, mlp.fc2]",
        "vit_micro_patch4_32|ssf|",
        "swin_micro_patch4_window4_32|ssf|",
        "convnext_micro|ssf|",
        "vit_micro_patch4_32|adaptformer|",
        "swin_micro_patch4_window4_32|adaptformer|",
        "convnext_micro|adaptformer|",
        "vit_micro_patch4_32|bitfit|",
        "swin_micro_patch4_window4_32|bitfit|",
        "convnext_micro|bitfit|",
        "swin_micro_patch4_window4_32|vpt|",
        "swin_micro_patch4_window4_32|vpt|mode = shallow, pool-prompts = false",
        "vit_micro_avg_ls_patch4_32|vpt|",
        "convnext_micro|lora|targets = [stem.0, conv_dw, downsample.1, mlp.fc1]",
        "swin_micro_patch4_window4_32|adaptformer|placement = mlp",
        "swin_micro_patch4_window4_32|adapter|style = houlsby, placement = after-add, activation = silu",
        "vit_micro_avg_ls_patch4_32|ssf|",
        "vit_micro_avg_ls_patch4_32|adaptformer|placement = inside",
        "vit_micro_patch4_32|dmlora|",
        "swin_micro_patch4_window4_32|dmlora|",
        "convnext_micro|dmlora|",
        "vit_micro_patch4_32|dmlora|scheme = B, branches = 3, scale = 10",
        "vit_micro_patch4_32|mosa|experts = 4",
        "swin_micro_patch4_window4_32|mosa|experts = 4",
        "convnext_micro|mosa|experts = 4",
        "vit_micro_avg_ls_patch4_32|mosa|experts = 3, split = all-sparse, biases = split",
        "vit_micro_patch4_32|mosa|style = houlsby, split = all-sparse, merge = jigsaw",
        "swin_micro_patch4_window4_32|mosa|style = houlsby, split = sparse-down",
        "vit_micro_patch4_32|mosa|style = pfeiffer, split = sparse-down, biases = split",
        "vit_micro_patch4_32|mosl|",
        "swin_micro_patch4_window4_32|mosl|",
        "convnext_micro|mosl|targets = [mlp.fc1, mlp.fc2]",
    })
    void trainsAndMergesExactly(String backbone, String method, String options) {
        try (NDManager manager = NDManager.newBaseManager()) {
            PeftModel model = attach(backbone, method, options == null ? "" : options, manager);
            assertThat(model.trainableBackboneParameters()).isPositive();
            perturb(model, manager);
            try (NDManager scope = manager.newSubManager()) {
                NDArray x = scope.randomNormal(new Shape(2, 3, 32, 32));
                // the method draws what a training pass needs (masks, experts) before it, as the trainer does
                model.hooks().beforeForward(new StepContext("main", 0, 0, new Random(5), scope));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(model.logits(x, true).square().mean());
                }
                for (var e : model.trainable().entrySet()) {
                    assertThat(e.getValue().getArray().getGradient().isNaN().any().getBoolean()).as(e.getKey()).isFalse();
                }
                NDArray unmerged = model.logits(x, false);
                model.merge();
                NDArray merged = model.logits(x, false);
                model.unmerge();
                assertThat(unmerged.sub(merged).abs().max().getFloat()).isLessThanOrEqualTo(1e-5f);
                assertThat(model.logits(x, false).sub(unmerged).abs().max().getFloat()).isZero();
            }
        }
    }

    @Test
    void vitTargetsOnConvNextNameWhatIsMissingAndWhatIsOffered() {
        try (NDManager manager = NDManager.newBaseManager()) {
            assertThatThrownBy(() -> attach("convnext_micro", "lora", "", manager))
                    .isInstanceOf(PeftException.class)
                    .hasMessageContaining("'attn.qkv:q'")
                    .hasMessageContaining("convnext_micro")
                    .hasMessageContaining("mlp.fc1");
            assertThatThrownBy(() -> attach("convnext_micro", "vpt", "", manager))
                    .hasMessageContaining("TOKENS");
            assertThatThrownBy(() -> attach("convnext_micro", "adaptformer", "placement = mlp", manager))
                    .hasMessageContaining("MLP").hasMessageContaining("ConvNeXt has none");
        }
    }
}
