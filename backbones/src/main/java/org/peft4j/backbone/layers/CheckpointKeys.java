package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;

/** Key handling every family's checkpoint conversion shares. */
public final class CheckpointKeys {

    private CheckpointKeys() {}

    /**
     * Strips the wrapper prefixes training scripts add ({@code state_dict.}, {@code module.}, {@code model.}):
     * a {@code torch.save({'model': sd})} file flattened to safetensors has keys {@code model.<key>}.
     */
    public static Map<String, NDArray> unwrap(Map<String, NDArray> raw) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        raw.forEach((k, v) -> {
            String key = k;
            for (String wrapper : new String[] {"state_dict.", "module.", "model."}) {
                if (key.startsWith(wrapper)) {
                    key = key.substring(wrapper.length());
                }
            }
            out.put(key, v);
        });
        return out;
    }
}
