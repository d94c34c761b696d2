package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * peft4j's AdamW against torch.optim.AdamW bit for bit: five steps of fixed gradients on three parameters, decay on
 * the matrices only, one parameter idle for a step (its grad None in PyTorch). The fixture is made by
 * {@code tools/fixtures/make_adamw_fixture.py}.
 */
class AdamWTorchParityTest {

    private static JsonObject fixture() throws Exception {
        try (Reader reader = new InputStreamReader(
                AdamWTorchParityTest.class.getResourceAsStream("/fixtures/adamw_torch.json"), StandardCharsets.UTF_8)) {
            return JsonParser.parseReader(reader).getAsJsonObject();
        }
    }

    private static float[] floats(JsonElement values) {
        JsonArray array = values.getAsJsonArray();
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).getAsDouble(); // the float64 holds the float32 exactly
        }
        return out;
    }

    private static long[] longs(JsonElement values) {
        return values.getAsJsonArray().asList().stream().mapToLong(JsonElement::getAsLong).toArray();
    }

    @Test
    void fiveStepsEqualTorchOptimAdamWBitForBit() throws Exception {
        JsonObject f = fixture();
        JsonObject recorded = f.getAsJsonObject("parameters");
        int steps = f.get("steps").getAsInt();
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, Parameter> params = new LinkedHashMap<>();
            for (String name : recorded.keySet()) {
                JsonObject r = recorded.getAsJsonObject(name);
                float[] initial = floats(r.get("initial"));
                Shape shape = new Shape(longs(r.get("shape")));
                Parameter p = Parameter.builder().setName(name).optShape(shape)
                        .optInitializer((mm, s, t) -> mm.create(initial, s)).build();
                p.initialize(m, DataType.FLOAT32);
                params.put(name, p);
            }
            AdamW adamW = new AdamW(params, f.get("weight_decay").getAsDouble(), f.get("beta1").getAsDouble(),
                    f.get("beta2").getAsDouble(), f.get("eps").getAsDouble(), 0);
            double lr = f.get("lr").getAsDouble();
            for (int step = 0; step < steps; step++) {
                Set<Parameter> idle = new HashSet<>();
                try (NDManager scope = m.newSubManager(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = null;
                    for (Map.Entry<String, Parameter> e : params.entrySet()) {
                        JsonElement grad = recorded.getAsJsonObject(e.getKey()).getAsJsonArray("grads").get(step);
                        if (grad.isJsonNull()) {
                            idle.add(e.getValue());
                            continue;
                        }
                        NDArray w = e.getValue().getArray();
                        // d/dw sum(w * g) = g, exactly
                        NDArray term = w.mul(scope.create(floats(grad), w.getShape())).sum();
                        loss = loss == null ? term : loss.add(term);
                    }
                    collector.backward(loss);
                }
                adamW.step(lr, idle);
            }
            for (Map.Entry<String, Parameter> e : params.entrySet()) {
                float[] expected = floats(recorded.getAsJsonObject(e.getKey()).get("final"));
                assertThat(e.getValue().getArray().toFloatArray()).as(e.getKey() + " after " + steps + " steps")
                        .containsExactly(expected);
            }
            assertThat(adamW.steps("lora_b")).isEqualTo(steps - 1);
        }
    }
}
