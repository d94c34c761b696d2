package org.peft4j.runner.results;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.stream.Stream;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;

/**
 * The results folder of one run (a cell) with {@code config.conf}, {@code metrics.json}, {@code
 * adapter.safetensors} (what the run trained), {@code train.log}, {@code status.json} and, while it trains,
 * {@code checkpoint.safetensors}. Every file but the log is written atomically.
 */
public final class RunDirectory {

    public static final String CONFIG = "config.conf";
    public static final String METRICS = "metrics.json";
    public static final String ADAPTER = "adapter.safetensors";
    public static final String LOG = "train.log";
    public static final String PREDICTIONS = "predictions.csv";

    private final Path dir;

    public RunDirectory(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new PeftException("cannot create results folder " + dir + ": " + e);
        }
    }

    public Path path() {
        return dir;
    }

    /** Deletes everything in the folder (a forced rerun). */
    public void clear() {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                if (Files.isRegularFile(f)) {
                    Files.delete(f);
                }
            }
        } catch (IOException e) {
            throw new PeftException("cannot clear " + dir + ": " + e, e);
        }
    }

    public void writeConfig(String hocon) {
        write(() -> AtomicFiles.writeString(dir.resolve(CONFIG), hocon));
    }

    public void writeMetrics(Map<String, ?> metrics) {
        write(() -> Json.write(dir.resolve(METRICS), metrics));
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
            throw new PeftException("cannot write to " + dir + ": " + e, e);
        }
    }
}
