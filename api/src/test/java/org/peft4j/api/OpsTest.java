package org.peft4j.api;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;
import org.peft4j.api.nn.Ops;

class OpsTest {

    @Test
    void scaledGradientsSurviveGarbageCollectionBeforeBackward() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int round = 0; round < 20; round++) {
                NDArray x = m.create(new float[] {1, 2, 3});
                x.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = Ops.divide(Ops.scale(x, 3.0), 2.0).sum();
                    byte[][] churn = new byte[64][];
                    for (int i = 0; i < churn.length; i++) {
                        churn[i] = new byte[1 << 20]; // provoke a collection between forward and backward
                    }
                    System.gc();
                    gc.backward(y);
                }
                assertThat(x.getGradient().toFloatArray()).containsExactly(1.5f, 1.5f, 1.5f);
            }
        }
    }
}
