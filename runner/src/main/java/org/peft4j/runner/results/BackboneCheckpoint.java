package org.peft4j.runner.results;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.Backbone;
import org.peft4j.api.io.Safetensors;
import org.peft4j.backbone.layers.PatchEmbed;

/**
 * Writes a backbone's weights as a timm-format safetensors checkpoint: timm's keys, and the patch embedding
 * as the 4-D conv weight {@code [D, C, p, p]} timm stores (peft4j keeps it flattened as a linear site). The
 * file loads back with {@code CheckpointLoader}, and into timm (strictly when the timm model has no head).
 */
public final class BackboneCheckpoint {

    private static final String PATCH_EMBED = "patch_embed.proj.weight";

    private BackboneCheckpoint() {}

    /**
     * Writes {@code backbone}'s parameters (the classifier only if {@code withHead}) atomically to {@code file}.
     *
     * @param inChannels the input channels the model was built with (to restore the conv weight's shape)
     * @return how many tensors were written
     */
    public static int write(Path file, Backbone backbone, boolean withHead, int inChannels, Map<String, String> metadata) {
        Map<String, Parameter> params = new LinkedHashMap<>(backbone.backboneParameters());
        if (withHead) {
            params.putAll(backbone.headParameters());
        }
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        List<NDArray> views = new ArrayList<>();
        try {
            params.forEach((key, p) -> {
                NDArray a = p.getArray();
                if (key.equals(PATCH_EMBED) || key.endsWith("." + PATCH_EMBED)) {
                    a = PatchEmbed.convWeight(a, inChannels);
                    if (a != p.getArray()) {
                        views.add(a);
                    }
                }
                tensors.put(key, a);
            });
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt"); // what timm / HF expect in safetensors metadata
            meta.putAll(metadata);
            Safetensors.write(file, tensors, meta);
            return tensors.size();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        } finally {
            views.forEach(NDArray::close); // reshapes live in the model's manager: do not let them pile up there
        }
    }
}
