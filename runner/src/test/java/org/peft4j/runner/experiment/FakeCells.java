package org.peft4j.runner.experiment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/** Writes finished cells by hand (config, status, metrics with a chosen accuracy), for tests of selection and reports. */
final class FakeCells {

    private FakeCells() {}

    static void finished(CellSpec spec, double accuracy, double paramsM) throws IOException {
        Path folder = spec.cell().folder(spec.experiment().run().output());
        Files.createDirectories(folder);
        Files.writeString(folder.resolve(RunDirectory.CONFIG), spec.experiment().render());
        CellStatus.write(folder, CellStatus.OK, null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("experiment", spec.cell().experiment());
        m.put("dataset", spec.cell().dataset());
        m.put("protocol", spec.cell().protocol());
        m.put("method", spec.cell().method());
        m.put("point", spec.cell().point());
        m.put("seed", spec.cell().seed());
        m.put("trainable_params", Math.round(paramsM * 1e6));
        m.put("trainable_params_m", paramsM);
        m.put("status", "ok");
        m.put("epochs", List.of(Map.of("stage", "main", "epoch", 1, "loss", 1.5), Map.of("stage", "main", "epoch", 2, "loss", 1.0)));
        m.put("eval", Map.of("split", spec.cell().protocol().equals("tune") ? "val200" : "test", "images", 100,
                "accuracy", accuracy, "loss", 1.0));
        m.put("accuracy", accuracy);
        Json.write(folder.resolve(RunDirectory.METRICS), m);
    }
}
