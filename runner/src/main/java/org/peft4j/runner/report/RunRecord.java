package org.peft4j.runner.report;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.peft4j.runner.results.Json;

/**
 * One finished run as the report sees it, read from its {@code metrics.json}.
 *
 * @param lossCurve training loss per epoch of the main stage
 * @param evalCurve evaluation accuracy per epoch where it was measured (NaN elsewhere)
 */
public record RunRecord(Path folder, String experiment, String dataset, String method, String point, String protocol,
        long seed, String status, double accuracy, String split, double paramsM, List<Double> lossCurve, List<Double> evalCurve) {

    public boolean ok() {
        return status.equals("ok");
    }

    public boolean isFinal() {
        return protocol.equals("final");
    }

    static RunRecord read(Path metricsFile) {
        JsonObject m = Json.read(metricsFile);
        List<Double> loss = new ArrayList<>();
        List<Double> eval = new ArrayList<>();
        if (m.has("epochs")) {
            for (JsonElement e : m.getAsJsonArray("epochs")) {
                JsonObject epoch = e.getAsJsonObject();
                if (!epoch.has("stage") || epoch.get("stage").getAsString().equals("main")) {
                    loss.add(epoch.get("loss").getAsDouble());
                    eval.add(epoch.has("eval_accuracy") ? epoch.get("eval_accuracy").getAsDouble() : Double.NaN);
                }
            }
        }
        String status = string(m, "status", "?");
        return new RunRecord(metricsFile.getParent(), string(m, "experiment", "?"), string(m, "dataset", "?"),
                string(m, "method", "?"), string(m, "point", "default"), string(m, "protocol", "final"),
                m.has("seed") ? m.get("seed").getAsLong() : 0, status,
                m.has("accuracy") ? m.get("accuracy").getAsDouble() : Double.NaN,
                m.has("eval") ? m.getAsJsonObject("eval").get("split").getAsString() : "?",
                m.has("trainable_params_m") ? m.get("trainable_params_m").getAsDouble() : Double.NaN, loss, eval);
    }

    private static String string(JsonObject m, String key, String fallback) {
        return m.has(key) ? m.get(key).getAsString() : fallback;
    }
}
