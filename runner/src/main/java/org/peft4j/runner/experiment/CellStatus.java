package org.peft4j.runner.experiment;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.peft4j.runner.results.Json;

/**
 * A cell's {@code status.json}: {@code running}, {@code ok} or {@code failed} (with the reason), written
 * atomically at each change, with the time and the process that wrote it.
 */
public record CellStatus(String state, String reason, String updated, String process, String slurmJob) {

    public static final String FILE = "status.json";
    public static final String RUNNING = "running";
    public static final String OK = "ok";
    public static final String FAILED = "failed";

    public boolean ok() {
        return state.equals(OK);
    }

    public boolean failed() {
        return state.equals(FAILED);
    }

    /** The status in {@code folder}, if the cell was ever started. */
    public static Optional<CellStatus> read(Path folder) {
        Path file = folder.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        JsonObject json = Json.read(file);
        return Optional.of(new CellStatus(string(json, "state"), string(json, "reason"), string(json, "updated"),
                string(json, "process"), string(json, "slurm_job")));
    }

    public static void write(Path folder, String state, String reason) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("state", state);
        if (reason != null) {
            json.put("reason", reason);
        }
        json.put("updated", Instant.now().toString());
        json.put("process", ManagementFactory.getRuntimeMXBean().getName()); // pid@host
        currentSlurmJob().ifPresent(job -> json.put("slurm_job", job));
        try {
            Json.write(folder.resolve(FILE), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + folder.resolve(FILE), e);
        }
    }

    /** This process's Slurm job ({@code <array job>_<task>} or the job id), if it runs under Slurm. */
    static Optional<String> currentSlurmJob() {
        String array = System.getenv("SLURM_ARRAY_JOB_ID");
        String task = System.getenv("SLURM_ARRAY_TASK_ID");
        if (array != null && task != null) {
            return Optional.of(array + "_" + task);
        }
        return Optional.ofNullable(System.getenv("SLURM_JOB_ID"));
    }

    /** The pid of the process that wrote the status, if it ran on this host. */
    public Optional<Long> localPid() {
        if (process == null || !process.contains("@")) {
            return Optional.empty();
        }
        String host = process.substring(process.indexOf('@') + 1);
        String here = ManagementFactory.getRuntimeMXBean().getName();
        if (!host.equals(here.substring(here.indexOf('@') + 1))) {
            return Optional.empty();
        }
        try {
            return Optional.of(Long.parseLong(process.substring(0, process.indexOf('@'))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    private static String string(JsonObject json, String key) {
        return json.has(key) && !json.get(key).isJsonNull() ? json.get(key).getAsString() : null;
    }
}
