package org.peft4j.methods.baselines;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.nn.Parameter;
import org.junit.jupiter.api.Test;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;
import org.peft4j.methods.baselines.testing.Fixtures;

/** The two reference points of every comparison: all of the backbone trains, or none of it. */
class FullAndLinearTest {

    @Test
    void linearLeavesEveryBackboneParameterFrozen() {
        try (TinyModel model = new TinyModel(8, 2, 4, 3)) {
            new LinearMethod().create(TestContexts.method("linear", "")).attach(model);
            assertThat(model.backboneParameters().values()).noneMatch(Parameter::requiresGradient);
            assertThat(Fixtures.trainable(model)).isZero();
            assertThat(Fixtures.adapted(model)).isEmpty();
        }
    }

    @Test
    void fullTrainsEveryBackboneParameter() {
        try (TinyModel model = new TinyModel(8, 2, 4, 3)) {
            new FullMethod().create(TestContexts.method("full", "")).attach(model);
            assertThat(model.backboneParameters().values()).allMatch(Parameter::requiresGradient);
            long all = model.backboneParameters().values().stream().mapToLong(p -> p.getShape().size()).sum();
            assertThat(Fixtures.trainable(model)).isEqualTo(all).isPositive();
        }
    }
}
