package org.peft4j.runner.results;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.Safetensors;
import org.peft4j.runner.train.PeftModel;

/**
 * An adapter-only checkpoint: what a run trained (adapter parameters, the head, any backbone parameters the
 * method unfroze) as safetensors, with metadata naming the method, its version and settings, the backbone and the
 * task, so that loading can check it fits before touching the model. Keys are {@code <site id>.<adapter>.<param>}
 * and timm keys.
 */
public final class AdapterFile {

    public static final String FORMAT = "peft4j-adapter";

    /** What an adapter file says about itself. */
    public record Header(String method, String methodVersion, String backbone, int numClasses, String dataset, long seed,
            String methodSettings, String peft4jVersion) {

        Map<String, String> toMetadata() {
            Map<String, String> m = new LinkedHashMap<>(); // fixed order: identical runs write identical files
            m.put("format", FORMAT);
            m.put("method", method);
            m.put("method_version", methodVersion);
            m.put("backbone", backbone);
            m.put("num_classes", Integer.toString(numClasses));
            m.put("dataset", dataset);
            m.put("seed", Long.toString(seed));
            m.put("method_settings", methodSettings);
            m.put("peft4j_version", peft4jVersion);
            return m;
        }

        static Header fromMetadata(Path file, Map<String, String> m) {
            if (!FORMAT.equals(m.get("format"))) {
                throw new PeftException(file + " is not a peft4j adapter file (metadata format is '" + m.get("format")
                        + "', expected '" + FORMAT + "')");
            }
            try {
                return new Header(require(file, m, "method"), m.getOrDefault("method_version", "?"), require(file, m, "backbone"),
                        Integer.parseInt(require(file, m, "num_classes")), m.getOrDefault("dataset", "?"),
                        Long.parseLong(m.getOrDefault("seed", "0")), m.getOrDefault("method_settings", "{}"),
                        m.getOrDefault("peft4j_version", "?"));
            } catch (NumberFormatException e) {
                throw new PeftException(file + ": bad number in metadata: " + e.getMessage());
            }
        }

        private static String require(Path file, Map<String, String> m, String key) {
            String v = m.get(key);
            if (v == null) {
                throw new PeftException(file + " has no '" + key + "' in its metadata; was it written by peft4j?");
            }
            return v;
        }
    }

    private AdapterFile() {}

    /** Writes the model's saved parameters with the header, atomically. */
    public static void write(Path file, PeftModel model, Header header) {
        try {
            Safetensors.write(file, model.savedArrays(), header.toMetadata());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /** The header alone (no tensors read). */
    public static Header header(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PeftException("adapter file not found: " + file);
        }
        return Header.fromMetadata(file, Safetensors.metadata(file));
    }

    /**
     * Checks that the file was written for this method and backbone, then loads its tensors into the model.
     * Errors name the file, the mismatching field, and (for tensors) the key and both shapes.
     */
    public static Header load(Path file, PeftModel model, String methodId, String methodSettings) {
        Header header = header(file);
        if (!header.method().equals(methodId)) {
            throw new PeftException(file + " was trained with method '" + header.method() + "', not '" + methodId + "'");
        }
        if (!header.backbone().equals(model.backbone().name())) {
            throw new PeftException(file + " was trained on backbone '" + header.backbone() + "', not '" + model.backbone().name() + "'");
        }
        if (header.numClasses() != model.backbone().numClasses()) {
            throw new PeftException(file + " has a " + header.numClasses() + "-class head; the task has "
                    + model.backbone().numClasses() + " classes");
        }
        if (methodSettings != null && !Objects.equals(header.methodSettings(), methodSettings)) {
            throw new PeftException(file + " was trained with other " + methodId + " settings: " + header.methodSettings()
                    + " (now: " + methodSettings + ")");
        }
        try (NDManager scope = model.backbone().manager().newSubManager()) {
            Map<String, NDArray> tensors = Safetensors.read(file, scope);
            model.restore(tensors);
        }
        return header;
    }
}
