package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.BackboneProvider;
import org.peft4j.api.PeftException;

/** The Swin Transformer family: one entry per size, only the numbers differ (timm's layout). */
public final class SwinProvider implements BackboneProvider {

    private static final Map<String, SwinSpec> VARIANTS = new LinkedHashMap<>();

    static {
        // micro size for tests: maps 8, 4, 2 exercise shifted windows, one whole-map window and a clipped window
        add(SwinSpec.of("swin_micro_patch4_window4_32", 32, 4, 4, 16, List.of(2, 2, 2), List.of(2, 4, 8)));
        add(SwinSpec.of("swin_tiny_patch4_window7_224", 224, 4, 7, 96, List.of(2, 2, 6, 2), List.of(3, 6, 12, 24)));
        add(SwinSpec.of("swin_small_patch4_window7_224", 224, 4, 7, 96, List.of(2, 2, 18, 2), List.of(3, 6, 12, 24)));
        add(SwinSpec.of("swin_base_patch4_window7_224", 224, 4, 7, 128, List.of(2, 2, 18, 2), List.of(4, 8, 16, 32)));
    }

    private static void add(SwinSpec spec) {
        VARIANTS.put(spec.name(), spec);
    }

    @Override
    public String family() {
        return "swin";
    }

    @Override
    public List<String> variants() {
        return List.copyOf(VARIANTS.keySet());
    }

    @Override
    public Backbone build(BackboneOptions options, NDManager manager) {
        return build(spec(options.name()), options, manager);
    }

    /** The spec of a named variant. */
    public static SwinSpec spec(String name) {
        SwinSpec spec = VARIANTS.get(name);
        if (spec == null) {
            throw new PeftException("unknown Swin variant " + name + "; known: " + VARIANTS.keySet());
        }
        return spec;
    }

    /** Builds a Swin of any spec (tests use custom ones). */
    public static SwinTransformer build(SwinSpec spec, BackboneOptions options, NDManager manager) {
        SwinTransformer model = new SwinTransformer(spec, options);
        model.initialize(manager, DataType.FLOAT32);
        return model;
    }
}
