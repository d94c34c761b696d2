package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.peft4j.methods.mosa.Fixtures.mosa;
import static org.peft4j.methods.mosa.Fixtures.step;
import static org.peft4j.methods.mosa.Fixtures.tokens;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Test;
import org.peft4j.api.testing.TinyModel;

/**
 * Under fp16 the experts' fp32 masters are read as fp16; the frozen parts and masks (fp32 constants) follow, so a
 * split down projection trains and merges in fp16 too.
 */
class HalfPrecisionTest {

    @Test
    void splitExpertsRunInTheActivationsType() {
        try (TinyModel model = Fixtures.model(); NDManager m = NDManager.newBaseManager()) {
            MixtureTuner tuner = mosa("experts = 3, bottleneck = 4, split = all-sparse, merge = jigsaw, dropout = 0");
            tuner.attach(model);
            Fixtures.perturb(tuner, m, 3);
            NDArray x = tokens(m, 2).toType(DataType.FLOAT16, false);
            tuner.hooks().beforeForward(step(1, m));
            assertThat(model.logits(x, true).getDataType()).isEqualTo(DataType.FLOAT16);
            assertThat(model.logits(x, false).getDataType()).isEqualTo(DataType.FLOAT16);
        }
    }
}
