package org.peft4j.runner.results;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** metrics.json stays valid JSON whatever the numbers: NaN and infinities are written as null. */
class JsonTest {

    @Test
    void nonFiniteNumbersBecomeNullAndKeysKeepTheirOrder() {
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("status", "failed");
        metrics.put("loss", Double.NaN);
        metrics.put("accuracy", 0.25);
        metrics.put("epochs", List.of(Map.of("loss", Float.POSITIVE_INFINITY), Map.of("loss", 1.5f)));
        metrics.put("trainable_params", 8192L);
        String json = Json.render(metrics);
        assertThat(json).doesNotContain("NaN").doesNotContain("Infinity").endsWith("}\n");
        JsonObject parsed = JsonParser.parseString(json).getAsJsonObject(); // strict JSON parses
        assertThat(parsed.keySet()).containsExactly("status", "loss", "accuracy", "epochs", "trainable_params");
        assertThat(parsed.get("loss").isJsonNull()).isTrue();
        assertThat(parsed.getAsJsonArray("epochs").get(0).getAsJsonObject().get("loss").isJsonNull()).isTrue();
        assertThat(parsed.getAsJsonArray("epochs").get(1).getAsJsonObject().get("loss").getAsDouble()).isEqualTo(1.5);
        assertThat(json).contains("\"trainable_params\": 8192").contains("\"accuracy\": 0.25");
    }
}
