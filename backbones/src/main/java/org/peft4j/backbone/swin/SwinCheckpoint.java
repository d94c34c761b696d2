package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.layers.CheckpointKeys;
import org.peft4j.backbone.layers.PatchEmbed;

/**
 * Converts Swin checkpoints into timm's key space, as timm's {@code checkpoint_filter_fn}: drops the
 * buffers ({@code relative_position_index}, {@code attn_mask}; recomputed in Java), flattens the 4-D patch
 * conv weight, and renames the official Microsoft layout, whose patch merging closes stage s
 * ({@code layers.s.downsample}) where timm opens stage s+1, and whose classifier is {@code head}, not
 * {@code head.fc}.
 */
final class SwinCheckpoint {

    private static final Pattern DOWNSAMPLE = Pattern.compile("^layers\\.(\\d+)\\.downsample\\.");
    private static final String TABLE = "relative_position_bias_table";

    private SwinCheckpoint() {}

    static Map<String, NDArray> convert(Map<String, NDArray> raw, Map<String, Parameter> model) {
        Map<String, NDArray> tensors = CheckpointKeys.unwrap(raw);
        boolean official = isOfficialLayout(tensors);
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            String key = e.getKey();
            NDArray value = e.getValue();
            if (key.contains("relative_position_index") || key.contains("attn_mask")) {
                continue; // buffers, not parameters
            }
            if (official) {
                key = officialToTimm(key);
            }
            if (key.equals("patch_embed.proj.weight")) {
                value = PatchEmbed.flattenConvWeight(value);
            } else if (key.endsWith(TABLE)) {
                requireSameWindow(key, value, model.get(key));
            }
            out.put(key, value);
        }
        return out;
    }

    /**
     * timm decides by the absence of {@code head.fc.weight}; that alone would misread a headless timm
     * checkpoint, so a merging under {@code layers.0} (which timm's layout never has) also marks the
     * official layout.
     */
    static boolean isOfficialLayout(Map<String, NDArray> tensors) {
        if (tensors.containsKey("head.fc.weight")) {
            return false;
        }
        return tensors.containsKey("head.weight") || tensors.keySet().stream().anyMatch(k -> k.startsWith("layers.0.downsample."));
    }

    static String officialToTimm(String key) {
        Matcher m = DOWNSAMPLE.matcher(key);
        if (m.find()) {
            return "layers." + (Integer.parseInt(m.group(1)) + 1) + ".downsample." + key.substring(m.end());
        }
        return key.startsWith("head.") ? "head.fc." + key.substring("head.".length()) : key;
    }

    private static void requireSameWindow(String key, NDArray value, Parameter target) {
        if (target == null || value.getShape().equals(target.getShape())) {
            return; // unknown keys are reported by the loader
        }
        throw new PeftException("tensor " + key + ": checkpoint has a relative position bias table of shape " + value.getShape()
                + " (window " + window(value.getShape().get(0)) + "), the model needs " + target.getShape()
                + " (window " + window(target.getShape().get(0)) + "); resizing bias tables to another window"
                + " (timm's resize_rel_pos_bias_table) is not supported: build the model for the checkpoint's window and image size");
    }

    private static String window(long rows) {
        long side = Math.round(Math.sqrt(rows));
        return side * side == rows ? String.valueOf((side + 1) / 2) : "?";
    }
}
