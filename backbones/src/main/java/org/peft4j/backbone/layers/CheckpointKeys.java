package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import java.util.LinkedHashMap;
import java.util.Map;

/** Checkpoint key clean-up shared by every family. */
public final class CheckpointKeys {

    private static final String[] WRAPPERS = {"state_dict.", "module.", "model."};

    private CheckpointKeys() {}

    /** Strips wrapper prefixes that training scripts add ({@code state_dict.}, {@code module.}, {@code model.}). */
    public static Map<String, NDArray> unwrap(Map<String, NDArray> raw) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        raw.forEach((k, v) -> {
            String key = k;
            for (String wrapper : WRAPPERS) {
                if (key.startsWith(wrapper)) {
                    key = key.substring(wrapper.length());
                }
            }
            out.put(key, v);
        });
        return out;
    }
}
