package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.api.StepContext;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.train.AdamW;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.TrainingStep;

/**
 * One real training step (the runner's TrainingStep and AdamW with weight decay) on a micro ViT: an expert no pass
 * used is bit-identical afterwards and took no optimiser step; a used expert changed only on its own entries.
 * (In MoSA's package to read the masks.)
 */
class MosaOptimizerStepTest {

    @Test
    void unusedExpertsAndEntriesOutsideTheUsedExpertsMasksAreBitIdenticalAfterAStep() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            Backbone backbone = BackboneRegistry.load().build(BackboneOptions.of("vit_micro_patch4_32", 10), m);
            MethodContext context = TestContexts.method("mosa",
                    "experts = 4, bottleneck = 8, split = all-sparse, biases = split, dropout = 0.1");
            MixtureTuner tuner = (MixtureTuner) new MosaMethod().create(context);
            PeftModel model = PeftModel.assemble(backbone, tuner);
            moveOwnEntries(tuner, m);
            Map<Parameter, String> names = new HashMap<>();
            model.trainable().forEach((k, p) -> names.put(p, k));
            Map<Parameter, float[]> before = new HashMap<>();
            names.keySet().forEach(p -> before.put(p, p.getArray().toFloatArray()));

            AdamW optimizer = new AdamW(model.trainable(), 0.05, 0.9, 0.999, 1e-8, 0);
            TrainingStep step = new TrainingStep(model, optimizer, 0);
            try (NDManager scope = step.openScope()) {
                NDArray x = scope.randomNormal(new Shape(4, 3, 32, 32));
                NDArray y = scope.create(new long[] {0, 1, 2, 3});
                step.run(new StepContext("main", 0, 0, new Random(9), scope), x, y, 1e-2, loss -> "loss " + loss);
            }

            int[][] draws = tuner.router().draws();
            List<ExpertSide> sides = tuner.router().sides();
            int unused = 0;
            int used = 0;
            for (int s = 0; s < sides.size(); s++) {
                for (int e = 0; e < sides.get(s).experts(); e++) {
                    boolean chosen = draws[0][s] == e || draws[1][s] == e;
                    for (ExpertTensor t : sides.get(s).tensors()) {
                        Parameter p = t.parameter(e);
                        String name = names.get(p);
                        float[] was = before.get(p);
                        float[] now = p.getArray().toFloatArray();
                        if (!chosen) {
                            assertThat(now).as("%s, an expert no pass used", name).isEqualTo(was);
                            assertThat(optimizer.steps(name)).as(name).isZero();
                            unused++;
                            continue;
                        }
                        float[] mask = t.mask(e).toFloatArray();
                        boolean changedInside = false;
                        for (int i = 0; i < now.length; i++) {
                            if (mask[i] == 0f) {
                                assertThat(Float.floatToRawIntBits(now[i])).as("%s entry %d outside its mask", name, i)
                                        .isEqualTo(Float.floatToRawIntBits(was[i]));
                            } else {
                                changedInside |= now[i] != was[i];
                            }
                        }
                        assertThat(changedInside).as("%s trained on its own entries", name).isTrue();
                        assertThat(optimizer.steps(name)).as(name).isEqualTo(1);
                        used++;
                    }
                }
            }
            assertThat(unused).as("some experts were not drawn").isPositive();
            assertThat(used).isPositive();
        }
    }

    /** Moves each expert's own entries, as earlier steps would have (so decay and gradients reach every tensor). */
    static void moveOwnEntries(MixtureTuner tuner, NDManager m) {
        Random random = new Random(1);
        for (MixtureAdapter adapter : tuner.adapters()) {
            for (ExpertSide side : adapter.sides()) {
                for (ExpertTensor t : side.tensors()) {
                    for (int e = 0; e < t.experts(); e++) {
                        float[] noise = new float[Math.toIntExact(t.shape().size())];
                        for (int i = 0; i < noise.length; i++) {
                            noise[i] = (float) (0.2 * random.nextGaussian());
                        }
                        NDArray n = m.create(noise, t.shape());
                        t.parameter(e).getArray().addi(t.layout() == ExpertTensor.Layout.SPLIT ? n.mul(t.mask(e)) : n);
                    }
                }
            }
        }
    }
}
