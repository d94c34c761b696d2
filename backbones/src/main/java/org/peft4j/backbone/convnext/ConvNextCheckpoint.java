package org.peft4j.backbone.convnext;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.peft4j.backbone.layers.CheckpointKeys;

/**
 * Converts ConvNeXt checkpoints into timm's key space, as timm's {@code checkpoint_filter_fn}: timm files
 * (they have {@code head.norm.*}) pass unchanged; the official facebookresearch layout is renamed:
 *
 * <ul>
 *   <li>{@code downsample_layers.0.{0,1}} (stem conv, norm) to {@code stem.{0,1}};
 *   <li>{@code downsample_layers.i.{0,1}} (norm, conv) to {@code stages.i.downsample.{0,1}};
 *   <li>{@code stages.i.j.{dwconv, norm, pwconv1, pwconv2, gamma}} to {@code stages.i.blocks.j.{conv_dw, norm,
 *       mlp.fc1, mlp.fc2, gamma}} (the official pointwise convs are Linear layers already, the official {@code
 *       gamma} is the same per-channel vector);
 *   <li>{@code norm} to {@code head.norm}, {@code head} to {@code head.fc}.
 * </ul>
 *
 * Wrapper prefixes ({@code model.}, {@code module.}, {@code state_dict.}) are stripped first.
 */
final class ConvNextCheckpoint {

    private static final Pattern BLOCK = Pattern.compile("^stages\\.(\\d+)\\.(\\d+)\\.");
    private static final Pattern DOWNSAMPLE = Pattern.compile("^downsample_layers\\.(\\d+)\\.(\\d+)\\.");

    private ConvNextCheckpoint() {}

    static Map<String, NDArray> convert(Map<String, NDArray> raw) {
        Map<String, NDArray> tensors = CheckpointKeys.unwrap(raw);
        if (!isOfficial(tensors)) {
            return tensors;
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        tensors.forEach((key, value) -> {
            if (!key.startsWith("projectors.") && !key.startsWith("norms.")) { // distillation extras timm drops too
                out.put(officialToTimm(key), value);
            }
        });
        return out;
    }

    /** timm's test: a file with timm's head norm (or a pre-head norm) is timm's, anything else official. */
    static boolean isOfficial(Map<String, NDArray> tensors) {
        return !tensors.containsKey("head.norm.weight") && !tensors.containsKey("norm_pre.weight");
    }

    /** One official key in timm's names, by timm's rules in timm's order. */
    static String officialToTimm(String key) {
        String k = key.replace("downsample_layers.0.", "stem.");
        k = BLOCK.matcher(k).replaceFirst("stages.$1.blocks.$2.");
        k = DOWNSAMPLE.matcher(k).replaceFirst("stages.$1.downsample.$2.");
        k = k.replace("dwconv", "conv_dw").replace("pwconv", "mlp.fc");
        k = k.replace("head.", "head.fc.");
        if (k.startsWith("norm.")) {
            k = "head." + k;
        }
        return k;
    }
}
