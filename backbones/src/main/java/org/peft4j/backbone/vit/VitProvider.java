package org.peft4j.backbone.vit;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.BackboneProvider;
import org.peft4j.api.PeftException;

/** The ViT family: one entry per size, only the numbers differ (timm's layout). */
public final class VitProvider implements BackboneProvider {

    private static final Map<String, VitSpec> VARIANTS = new LinkedHashMap<>();

    static {
        // micro sizes for tests and the bundled demo (32 px inputs, patch 4)
        add(VitSpec.of("vit_micro_patch4_32", 32, 4, 64, 4, 4));
        add(new VitSpec("vit_micro_avg_ls_patch4_32", 32, 4, 64, 4, 4, 4.0, true, "avg", 1e-5f, true));
        add(VitSpec.of("vit_tiny_patch16_224", 224, 16, 192, 12, 3));
        add(VitSpec.of("vit_small_patch16_224", 224, 16, 384, 12, 6));
        add(VitSpec.of("vit_base_patch16_224", 224, 16, 768, 12, 12));
        add(VitSpec.of("vit_large_patch16_224", 224, 16, 1024, 24, 16));
    }

    private static void add(VitSpec spec) {
        VARIANTS.put(spec.name(), spec);
    }

    @Override
    public String family() {
        return "vit";
    }

    @Override
    public List<String> variants() {
        return List.copyOf(VARIANTS.keySet());
    }

    @Override
    public Backbone build(BackboneOptions options, NDManager manager) {
        VitSpec spec = VARIANTS.get(options.name());
        if (spec == null) {
            throw new PeftException("unknown ViT variant " + options.name() + "; known: " + VARIANTS.keySet());
        }
        return build(spec, options, manager);
    }

    /** Builds a ViT of any spec (tests use custom ones). */
    public static VisionTransformer build(VitSpec spec, BackboneOptions options, NDManager manager) {
        VisionTransformer model = new VisionTransformer(spec, options);
        model.initialize(manager, DataType.FLOAT32);
        return model;
    }
}
