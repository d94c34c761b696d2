package org.peft4j.backbone.convnext;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.BackboneProvider;
import org.peft4j.api.PeftException;

/** The ConvNeXt family: one entry per size, only the numbers differ (timm's layout). */
public final class ConvNextProvider implements BackboneProvider {

    private static final Map<String, ConvNextSpec> VARIANTS = new LinkedHashMap<>();

    static {
        // micro size for tests: 32 px, four stages as timm's ConvNeXt always builds (8x8, 4x4, 2x2, 1x1 maps)
        add(ConvNextSpec.of("convnext_micro", 32, List.of(2, 2, 2, 2), List.of(16, 24, 32, 48)));
        add(ConvNextSpec.of("convnext_tiny", 224, List.of(3, 3, 9, 3), List.of(96, 192, 384, 768)));
        add(ConvNextSpec.of("convnext_small", 224, List.of(3, 3, 27, 3), List.of(96, 192, 384, 768)));
        add(ConvNextSpec.of("convnext_base", 224, List.of(3, 3, 27, 3), List.of(128, 256, 512, 1024)));
    }

    private static void add(ConvNextSpec spec) {
        VARIANTS.put(spec.name(), spec);
    }

    @Override
    public String family() {
        return "convnext";
    }

    @Override
    public List<String> variants() {
        return List.copyOf(VARIANTS.keySet());
    }

    @Override
    public Backbone build(BackboneOptions options, NDManager manager) {
        ConvNextSpec spec = VARIANTS.get(options.name());
        if (spec == null) {
            throw new PeftException("unknown ConvNeXt variant " + options.name() + "; known: " + VARIANTS.keySet());
        }
        return build(spec, options, manager);
    }

    /** Builds a ConvNeXt of any spec (tests use custom ones). */
    public static ConvNext build(ConvNextSpec spec, BackboneOptions options, NDManager manager) {
        ConvNext model = new ConvNext(spec, options);
        model.initialize(manager, DataType.FLOAT32);
        return model;
    }
}
