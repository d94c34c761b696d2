package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.initializer.NormalInitializer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.peft4j.api.nn.Cast;

/** One call casts every trainable weight for a step: the values of per-weight casts, their gradients, served once. */
class WeightCastsTest {

    private static List<Parameter> weights(NDManager manager) {
        return weights(manager, 3);
    }

    private static List<Parameter> weights(NDManager manager, long columns) {
        List<Parameter> weights = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Parameter p = Parameter.builder().setName("w" + i).optShape(new Shape(2 + i, columns))
                    .optInitializer(new NormalInitializer(1f)).build();
            p.initialize(manager, DataType.FLOAT32);
            weights.add(p);
        }
        return weights;
    }

    @Test
    void oneCallGivesEachWeightsCastAndPassesEachGradientBack() {
        castsMatchPerWeightCastsAndPassGradients(3); // adapter-sized: cast as one flat buffer
    }

    @Test
    void aSetOverTheFlatLimitIsCastWeightByWeightWithTheSameResult() {
        castsMatchPerWeightCastsAndPassGradients(2_000_000); // 18M elements in all, over cast_all.pt's 2^24
    }

    private static void castsMatchPerWeightCastsAndPassGradients(long columns) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            List<Parameter> weights = weights(m, columns);
            List<NDArray> arrays = weights.stream().map(Parameter::getArray).toList();
            try (NDManager scope = m.newSubManager(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                List<NDArray> casts = WeightCasts.castAll(arrays, DataType.FLOAT16, scope);
                assertThat(casts).hasSize(3);
                NDArray loss = null;
                for (int i = 0; i < 3; i++) {
                    NDArray cast = casts.get(i);
                    assertThat(cast.getDataType()).isEqualTo(DataType.FLOAT16);
                    assertThat(cast.getShape()).isEqualTo(arrays.get(i).getShape());
                    assertThat(cast.getManager()).isSameAs(scope);
                    assertThat(cast.contentEquals(Cast.to(arrays.get(i), DataType.FLOAT16))).isTrue();
                    NDArray term = Cast.to(cast.mul(i + 1).sum(), DataType.FLOAT32);
                    loss = loss == null ? term : loss.add(term);
                }
                collector.backward(loss);
            }
            for (int i = 0; i < 3; i++) {
                NDArray grad = arrays.get(i).getGradient();
                assertThat(grad.getDataType()).isEqualTo(DataType.FLOAT32);
                assertThat(grad.getShape()).isEqualTo(arrays.get(i).getShape());
                assertThat(grad.sub(i + 1).abs().max().getFloat()).as("d loss / d w%d", i).isZero();
                assertThat(arrays.get(i).getName()).as("names are restored").isNotEqualTo("weights[]");
            }
        }
    }

    @Test
    void theStoreServesTheCastsOnlyWhileActive() {
        try (NDManager m = NDManager.newBaseManager(); NDManager scope = m.newSubManager()) {
            List<Parameter> weights = weights(m);
            WeightCasts store = new WeightCasts(m);
            Device cpu = m.getDevice();
            try (WeightCasts.Active active = store.cast(weights, DataType.FLOAT16, scope)) {
                for (Parameter p : weights) {
                    NDArray served = store.getValue(p, cpu, true);
                    assertThat(served.getDataType()).isEqualTo(DataType.FLOAT16);
                    assertThat(store.getValue(p, cpu, true)).as("one cast per weight and step").isSameAs(served);
                }
            }
            for (Parameter p : weights) {
                assertThat(store.getValue(p, cpu, true)).isSameAs(p.getArray());
            }
            // weights already in the compute type are served as they are
            try (WeightCasts.Active active = store.cast(weights, DataType.FLOAT32, scope)) {
                assertThat(store.getValue(weights.get(0), cpu, true)).isSameAs(weights.get(0).getArray());
            }
        }
    }
}
