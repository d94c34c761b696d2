package org.peft4j.runner.results;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.Safetensors;
import org.peft4j.runner.train.AdamW;
import org.peft4j.runner.train.EpochStats;
import org.peft4j.runner.train.TrainingCheckpoints;
import org.peft4j.runner.train.TrainingState;

/**
 * A run's resume point as one safetensors file, replaced atomically after every epoch: saved parameters under
 * {@code param/}, AdamW moments under {@code adam.m/} and {@code adam.v/}, and the position in the plan, the
 * per-parameter step counts and the history as JSON metadata. One file, so a kill can never leave the tensors
 * of one epoch with the position of another.
 */
public final class CheckpointFile implements TrainingCheckpoints {

    public static final String NAME = "checkpoint.safetensors";
    private static final String PARAM = "param/";
    private static final String MEAN = "adam.m/";
    private static final String VARIANCE = "adam.v/";
    private static final Gson GSON = new Gson();

    private final Path file;

    public CheckpointFile(Path folder) {
        this.file = folder.resolve(NAME);
    }

    public Path path() {
        return file;
    }

    /** Removes the checkpoint (a finished run keeps only its adapter file). */
    public void delete() {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file, e);
        }
    }

    @Override
    public Optional<TrainingState> latest(NDManager manager) {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Map<String, String> meta = Safetensors.metadata(file);
        String json = meta.get("state");
        if (json == null) {
            throw new PeftException(file + " is not a peft4j training checkpoint (no 'state' metadata); delete it to start over");
        }
        JsonObject state = GSON.fromJson(json, JsonObject.class);
        Map<String, NDArray> params = new LinkedHashMap<>();
        Map<String, NDArray> mean = new LinkedHashMap<>();
        Map<String, NDArray> variance = new LinkedHashMap<>();
        Safetensors.read(file, manager).forEach((k, v) -> {
            if (k.startsWith(PARAM)) {
                params.put(k.substring(PARAM.length()), v);
            } else if (k.startsWith(MEAN)) {
                mean.put(k.substring(MEAN.length()), v);
            } else if (k.startsWith(VARIANCE)) {
                variance.put(k.substring(VARIANCE.length()), v);
            }
        });
        Map<String, Long> steps = GSON.fromJson(state.get("steps"), new TypeToken<LinkedHashMap<String, Long>>() {}.getType());
        List<EpochStats> history = GSON.fromJson(state.get("history"), new TypeToken<List<EpochStats>>() {}.getType());
        return Optional.of(new TrainingState(state.get("stage").getAsInt(), state.get("epochs_done").getAsInt(), history,
                params, new AdamW.State(mean, variance, steps), state.has("loss_scale") ? state.get("loss_scale").getAsDouble() : 1,
                state.has("loss_scale_good_steps") ? state.get("loss_scale_good_steps").getAsInt() : 0));
    }

    @Override
    public void save(TrainingState state) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        state.parameters().forEach((k, v) -> tensors.put(PARAM + k, v));
        state.optimizer().mean().forEach((k, v) -> tensors.put(MEAN + k, v));
        state.optimizer().variance().forEach((k, v) -> tensors.put(VARIANCE + k, v));
        JsonObject json = new JsonObject();
        json.addProperty("stage", state.stage());
        json.addProperty("epochs_done", state.epochsDone());
        json.add("steps", GSON.toJsonTree(state.optimizer().steps()));
        json.add("history", GSON.toJsonTree(state.history()));
        json.addProperty("loss_scale", state.lossScale());
        json.addProperty("loss_scale_good_steps", state.lossScaleGoodSteps());
        try {
            Safetensors.write(file, tensors, Map.of("format", "peft4j-checkpoint", "state", GSON.toJson(json)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        }
    }
}
