package org.peft4j.backbone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.Backbone;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.ParameterValues;
import org.peft4j.api.io.Npy;
import org.peft4j.api.io.Safetensors;

/**
 * Loads a checkpoint file into a backbone: read ({@code .safetensors}, or {@code .npz} for Google's ViT),
 * convert with the family's {@link Backbone#convertCheckpoint}, then copy strictly. Only the classifier may
 * be missing or of another shape (it is then left freshly initialised for the task).
 */
public final class CheckpointLoader {

    /** What a load did. */
    public record Report(int loaded, List<String> headReplaced, List<String> missing, List<String> unexpected) {

        public String summary() {
            StringBuilder s = new StringBuilder("loaded " + loaded + " tensors");
            if (!headReplaced.isEmpty()) {
                s.append("; classifier re-initialised for the task (").append(String.join(", ", headReplaced)).append(')');
            }
            if (!missing.isEmpty()) {
                s.append("; missing ").append(missing);
            }
            if (!unexpected.isEmpty()) {
                s.append("; ignored ").append(unexpected);
            }
            return s.toString();
        }
    }

    private CheckpointLoader() {}

    /** Reads a checkpoint file into a map of tensors created in {@code manager}. */
    public static Map<String, NDArray> read(Path file, NDManager manager) {
        return isSafetensors(file) ? Safetensors.read(file, manager) : Npy.readNpz(file, manager);
    }

    /**
     * Checks a checkpoint before any model is built, reading only headers: the file exists, is a format we read, and
     * every tensor entry is well-formed (known dtype, its bytes inside the file). Whether the tensors fit the model is
     * known only after the family converts them, at {@link #load}.
     *
     * @return the tensor names and shapes the file declares
     */
    public static Map<String, Shape> checkHeader(Path file) {
        Map<String, Shape> shapes = new LinkedHashMap<>();
        if (isSafetensors(file)) {
            Safetensors.header(file).forEach(e -> shapes.put(e.name(), e.shape()));
        } else {
            Npy.npzHeaders(file).forEach((name, header) -> shapes.put(name, header.shape()));
        }
        if (shapes.isEmpty()) {
            throw new PeftException("checkpoint " + file + " holds no tensors");
        }
        return shapes;
    }

    /** Whether the file is safetensors (else .npz); any other file is an error naming what we read. */
    private static boolean isSafetensors(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PeftException("checkpoint not found: " + file);
        }
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (name.endsWith(".safetensors")) {
            return true;
        }
        if (name.endsWith(".npz")) {
            return false;
        }
        throw new PeftException("cannot read checkpoint " + file + ": expected .safetensors (timm, HF) or .npz (Google ViT);"
                + " pickled .pt/.pth files cannot be read from Java: save them with safetensors.torch.save_file");
    }

    /**
     * Loads {@code file} into {@code model}.
     *
     * @param strict refuse checkpoint tensors the model does not use (otherwise they are reported)
     */
    public static Report load(Backbone model, Path file, boolean strict) {
        Map<String, Parameter> params = model.parameters();
        if (params.isEmpty()) {
            throw new PeftException(model.name() + " has no parameters to load");
        }
        NDManager home = params.values().iterator().next().getArray().getManager();
        try (NDManager scope = home.newSubManager()) {
            Map<String, NDArray> converted = model.convertCheckpoint(read(file, scope), scope);
            return copy(model, converted, file.toString(), strict);
        }
    }

    /** Copies converted tensors into the model's parameters (shared by file loads and tests). */
    public static Report copy(Backbone model, Map<String, NDArray> converted, String source, boolean strict) {
        Map<String, Parameter> params = model.parameters();
        List<String> mismatches = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        List<String> headReplaced = new ArrayList<>();
        Map<Parameter, NDArray> toCopy = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String key = e.getKey();
            boolean isHead = model.headParameters().containsKey(key);
            NDArray value = converted.get(key);
            Parameter param = e.getValue();
            if (value == null) {
                if (isHead) {
                    headReplaced.add(key);
                } else {
                    missing.add(key);
                }
            } else if (!value.getShape().equals(param.getShape())) {
                if (isHead) {
                    headReplaced.add(key + " " + value.getShape() + " -> " + param.getShape());
                } else {
                    mismatches.add("tensor " + key + ": checkpoint has shape " + value.getShape()
                            + ", model " + model.name() + " needs " + param.getShape());
                }
            } else {
                toCopy.put(param, value);
            }
        }
        if (!mismatches.isEmpty()) {
            throw new PeftException(source + " does not fit " + model.name() + ": " + String.join("; ", first(mismatches, 5))
                    + (mismatches.size() > 5 ? " (and " + (mismatches.size() - 5) + " more)" : ""));
        }
        if (!missing.isEmpty()) {
            throw new PeftException(source + " lacks " + missing.size() + " tensors " + model.name() + " needs: "
                    + first(missing, 8) + (missing.size() > 8 ? " ..." : ""));
        }
        List<String> unexpected = converted.keySet().stream().filter(k -> !params.containsKey(k)).sorted().toList();
        if (strict && !unexpected.isEmpty()) {
            throw new PeftException(source + " has " + unexpected.size() + " tensors " + model.name() + " does not use: "
                    + first(unexpected, 8) + " (set backbone.strict = false to ignore them)");
        }
        toCopy.forEach(ParameterValues::assign);
        return new Report(toCopy.size(), headReplaced, missing, unexpected);
    }

    private static List<String> first(List<String> list, int n) {
        return list.subList(0, Math.min(n, list.size()));
    }
}
