package org.peft4j.runner.results;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.peft4j.api.io.AtomicFiles;
import org.peft4j.api.io.Safetensors;

/**
 * The results folder of one run: {@code <output>/<experiment>/<dataset>/<method>/seed-<n>/} with {@code
 * config.conf}, {@code metrics.json}, {@code adapter.safetensors} (adapter and trainable tensors,
 * {@link org.peft4j.runner.train.PeftModel#savedParameters}) and {@code
 * train.log}. Every file but the log is written atomically.
 */
public final class RunDirectory {

    public static final String CONFIG = "config.conf";
    public static final String METRICS = "metrics.json";
    public static final String ADAPTER = "adapter.safetensors";
    public static final String LOG = "train.log";

    private final Path dir;

    public RunDirectory(Path output, String experiment, String dataset, String method, long seed) {
        this.dir = output.resolve(experiment).resolve(dataset).resolve(method).resolve("seed-" + seed);
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(LOG));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create results folder " + dir, e);
        }
    }

    public Path path() {
        return dir;
    }

    public void writeConfig(String hocon) {
        write(() -> AtomicFiles.writeString(dir.resolve(CONFIG), hocon));
    }

    public void writeMetrics(Map<String, ?> metrics) {
        write(() -> AtomicFiles.writeString(dir.resolve(METRICS), Json.render(metrics)));
    }

    /** Saves the given parameters (the trainable ones) by name, with string metadata. */
    public void writeAdapter(Map<String, Parameter> parameters, Map<String, String> metadata) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        parameters.forEach((k, p) -> tensors.put(k, p.getArray()));
        write(() -> Safetensors.write(dir.resolve(ADAPTER), tensors, metadata));
    }

    public void log(String line) {
        write(() -> Files.writeString(dir.resolve(LOG), line + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private void write(IoAction action) {
        try {
            action.run();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to " + dir + ": " + e.getMessage(), e);
        }
    }
}
