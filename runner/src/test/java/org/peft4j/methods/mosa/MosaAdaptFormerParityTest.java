package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.StepContext;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.AdamW;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.TrainingStep;

/**
 * MoSA with one expert is AdaptFormer with MoSA's adapter (its own LayerNorm, GELU): for the same weights both give
 * the same outputs and the same training step (both passes are identical, so the consistency terms and their
 * gradients vanish).
 */
class MosaAdaptFormerParityTest {

    private static PeftModel build(String method, String options, NDManager m) {
        Engine.getInstance().setRandomSeed(4);
        Backbone backbone = BackboneRegistry.load().build(BackboneOptions.of("vit_micro_patch4_32", 10), m);
        MethodRegistry registry = MethodRegistry.discover(Path.of("no-plugins"));
        return PeftModel.assemble(backbone, registry.get(method).create(TestContexts.method(method, options)));
    }

    @Test
    void oneExpertReproducesAdaptFormerForTheSameWeights() {
        try (NDManager m = NDManager.newBaseManager()) {
            // the same adapter: bottleneck 8, LayerNorm on the input with eps 1e-5, GELU, s = 0.1, no hidden dropout
            PeftModel adaptformer = build("adaptformer", "bottleneck = 8, layernorm = in, activation = gelu, dropout = 0", m);
            // on the sites AdaptFormer uses (its branch, or after layer scale and drop path)
            SiteKind kind = adaptformer.backbone().sites().stream().filter(s -> !s.adapters().isEmpty()).findFirst()
                    .orElseThrow().kind();
            String placement = kind == SiteKind.FFN ? "inside" : "after-drop-path";
            PeftModel mosa = build("mosa", "experts = 1, bottleneck = 8, layernorm-eps = 1e-5, dropout = 0, placement = "
                    + placement, m);
            Map<String, Parameter> a = adaptformer.trainable();
            Map<String, Parameter> b = mosa.trainable();
            // same sites, same parameter names (the adapters' own names aside)
            assertThat(b.keySet().stream().map(k -> k.replace(".mosa.", ".adaptformer.")).toList()).hasSize(2 + 4 * 6)
                    .containsExactlyElementsOf(a.keySet());
            for (Map.Entry<String, Parameter> e : a.entrySet()) {
                NDArray w = e.getValue().getArray();
                // up starts at 0: move everything, or the adapter adds nothing
                w.addi(m.randomNormal(0f, 0.1f, w.getShape(), w.getDataType()));
                b.get(mosaKey(e.getKey())).getArray().muli(0).addi(w);
            }
            NDArray x = m.randomNormal(new Shape(4, 3, 32, 32));
            NDArray y = m.create(new long[] {0, 1, 2, 3});
            assertThat(mosa.logits(x, false).sub(adaptformer.logits(x, false)).abs().max().getFloat()).isLessThanOrEqualTo(1e-6f);

            float lossA = step(adaptformer, x, y);
            float lossB = step(mosa, x, y);
            assertThat(lossB).isCloseTo(lossA, org.assertj.core.api.Assertions.within(1e-6f));
            for (Map.Entry<String, Parameter> e : a.entrySet()) {
                NDArray after = b.get(mosaKey(e.getKey())).getArray();
                assertThat(after.sub(e.getValue().getArray()).abs().max().getFloat()).as(e.getKey()).isLessThanOrEqualTo(1e-6f);
            }
        }
    }

    private static String mosaKey(String adaptformerKey) {
        return adaptformerKey.replace(".adaptformer.", ".mosa.");
    }

    private static float step(PeftModel model, NDArray x, NDArray y) {
        TrainingStep step = new TrainingStep(model, new AdamW(model.trainable(), 1e-4, 0.9, 0.999, 1e-8, 0), 0);
        try (NDManager scope = step.openScope()) {
            NDArray images = x.duplicate();
            images.attach(scope);
            NDArray labels = y.duplicate();
            labels.attach(scope);
            return step.run(new StepContext("main", 0, 0, new Random(2), scope), images, labels, 1e-2, l -> "loss " + l).loss();
        }
    }
}
