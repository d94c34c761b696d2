package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Random;
import org.peft4j.api.MethodContext;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;

/** Shared set-up of the MoSA / MoSL tests. */
final class Fixtures {

    static final int DIM = 8;
    static final int DEPTH = 4;
    static final int CLASSES = 3;

    private Fixtures() {}

    static MixtureTuner mosa(String overrides) {
        return (MixtureTuner) new MosaMethod().create(TestContexts.method("mosa", overrides));
    }

    static MixtureTuner mosa(String overrides, long seed) {
        MethodContext c = TestContexts.method("mosa", overrides);
        return (MixtureTuner) new MosaMethod().create(new MethodContext(c.settings(), c.source(), seed, c.dataset(), c.numClasses()));
    }

    static MixtureTuner mosl(String overrides) {
        return (MixtureTuner) new MoslMethod().create(TestContexts.method("mosl", overrides));
    }

    static TinyModel model() {
        return new TinyModel(DIM, DEPTH, CLASSES, 5);
    }

    static StepContext step(long seed, NDManager manager) {
        return new StepContext("main", 0, seed, new Random(seed), manager);
    }

    static NDArray tokens(NDManager manager, int batch) {
        return manager.randomNormal(new Shape(batch, 5, DIM));
    }

    static NDArray labels(NDManager manager, int batch) {
        long[] y = new long[batch];
        for (int i = 0; i < batch; i++) {
            y[i] = i % CLASSES;
        }
        return manager.create(y);
    }

    /** Mean cross-entropy, as the runner's task loss without smoothing. */
    static final TrainingHooks.TaskLoss CROSS_ENTROPY =
            (logits, y) -> logits.logSoftmax(-1).mul(y.oneHot(CLASSES)).sum(new int[] {-1}).mean().neg();

    /**
     * Moves every expert parameter away from its start, as training would: split experts only on their own entries
     * (zero elsewhere, as training keeps them), everything else everywhere.
     */
    static void perturb(MixtureTuner tuner, NDManager manager, long seed) {
        perturb(tuner.adapters(), manager, seed, 0.3);
    }

    static void perturb(java.util.List<? extends MixtureAdapter> adapters, NDManager manager, long seed, double std) {
        Random random = new Random(seed);
        for (MixtureAdapter adapter : adapters) {
            for (ExpertSide side : adapter.sides()) {
                for (ExpertTensor t : side.tensors()) {
                    for (int e = 0; e < t.experts(); e++) {
                        Parameter p = t.parameter(e);
                        float[] noise = new float[Math.toIntExact(t.shape().size())];
                        for (int i = 0; i < noise.length; i++) {
                            noise[i] = (float) (std * random.nextGaussian());
                        }
                        NDArray n = manager.create(noise, t.shape());
                        if (t.layout() == ExpertTensor.Layout.SPLIT) {
                            n = n.mul(t.mask(e));
                        }
                        p.getArray().addi(n);
                    }
                }
            }
        }
    }

    static float maxAbs(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }
}
