package org.peft4j.backbone.layers;

import ai.djl.nn.Parameter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.peft4j.api.site.AdapterSite;

/**
 * The explicit {@code checkpoint key -> Parameter} map of a backbone. DJL's own parameter names
 * ({@code 01blocks_02attn_weight}) never equal timm keys, so each model fills this while it is built.
 */
public final class ParameterIndex {

    private final Map<String, Parameter> byKey = new LinkedHashMap<>();

    public void put(String key, Parameter parameter) {
        if (parameter == null) {
            return;
        }
        if (byKey.putIfAbsent(key, parameter) != null) {
            throw new IllegalStateException("duplicate checkpoint key " + key);
        }
    }

    /** Adds a site's weight and bias as {@code <key>.weight} / {@code <key>.bias}. */
    public void putSite(String key, AdapterSite site) {
        site.weight().ifPresent(p -> put(key + ".weight", p));
        site.bias().ifPresent(p -> put(key + ".bias", p));
    }

    /** Adds a site under its own id. */
    public void putSite(AdapterSite site) {
        putSite(site.id(), site);
    }

    public Map<String, Parameter> all() {
        return Collections.unmodifiableMap(byKey);
    }

    /** Everything whose key does not start with {@code prefix}. */
    public Map<String, Parameter> without(String prefix) {
        Map<String, Parameter> kept = new LinkedHashMap<>();
        byKey.forEach((k, v) -> {
            if (!k.startsWith(prefix)) {
                kept.put(k, v);
            }
        });
        return Collections.unmodifiableMap(kept);
    }

    /** Everything whose key starts with {@code prefix}. */
    public Map<String, Parameter> with(String prefix) {
        Map<String, Parameter> kept = new LinkedHashMap<>();
        byKey.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                kept.put(k, v);
            }
        });
        return Collections.unmodifiableMap(kept);
    }
}
