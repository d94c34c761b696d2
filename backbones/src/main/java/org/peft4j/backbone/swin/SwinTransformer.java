package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.DataConfig;
import org.peft4j.api.PeftException;
import org.peft4j.api.site.NormSite;
import org.peft4j.backbone.layers.BackboneBlock;
import org.peft4j.backbone.layers.DropPath;
import org.peft4j.backbone.layers.PatchEmbed;

/**
 * timm's SwinTransformer, channels-last {@code [B, H, W, C]} throughout: patch embedding (conv as the LINEAR
 * site {@code patch_embed.proj}) with LayerNorm {@code patch_embed.norm}, stages {@code layers.s} (patch
 * merging at the start of every stage but the first, then window-attention blocks), final {@code norm},
 * average pooling over H and W, classifier {@code head.fc}. Checkpoint keys are timm's; the official
 * Microsoft layout is converted ({@link #convertCheckpoint}).
 *
 * <p>LayerNorms use eps 1e-5: timm builds Swin with {@code nn.LayerNorm}'s default (unlike ViT's 1e-6).
 * Site depths count blocks over all stages (Swin-T: 0..11); the model is built for one input size.
 */
public final class SwinTransformer extends BackboneBlock {

    static final float EPS = 1e-5f;

    private final SwinSpec spec;
    private final int imageSize;
    private final int grid;
    private final PatchEmbed patchEmbed;
    private final NormSite patchNorm;
    private final List<SwinStage> stages = new ArrayList<>();
    private final NormSite norm;

    SwinTransformer(SwinSpec spec, BackboneOptions options) {
        super(spec.name(), options.numClasses(), spec.numFeatures(), spec.totalDepth());
        this.spec = spec;
        this.imageSize = options.imageSize() > 0 ? options.imageSize() : spec.imageSize();
        if (imageSize % spec.patchSize() != 0) {
            throw new PeftException(spec.name() + ": image size " + imageSize + " is not a multiple of patch size " + spec.patchSize());
        }
        this.grid = imageSize / spec.patchSize();
        if (grid >> (spec.stages() - 1) == 0) {
            throw new PeftException(spec.name() + ": image size " + imageSize + " is too small for " + spec.stages()
                    + " stages of patch merging after a " + spec.patchSize() + "px patch embedding");
        }
        int d = spec.embedDim();
        patchEmbed = child("patch_embed", new PatchEmbed("patch_embed.proj", options.inChannels(), d, spec.patchSize()));
        patchNorm = child("patch_embed_norm", new NormSite("patch_embed.norm", -1, d, EPS));
        keys.putSite(patchEmbed.proj());
        keys.putSite(patchNorm);
        sites.add(patchEmbed.proj());
        sites.add(patchNorm);

        double[] dropPath = DropPath.schedule(options.dropPathRate(), spec.totalDepth());
        int first = 0;
        for (int s = 0; s < spec.stages(); s++) {
            // timm books each merge as a floor halving of the grid (the window clipping and masks follow it)
            SwinStage stage = child("layers_" + s, new SwinStage(spec, s, grid >> s, first, dropPath, EPS, keys, blockOutputs));
            stages.add(stage);
            sites.addAll(stage.sites());
            first += spec.depths().get(s);
        }
        norm = child("norm", new NormSite("norm", -1, spec.numFeatures(), EPS));
        keys.putSite(norm);
        sites.add(norm);
        addClassifier("head.fc");
        useAttention(options.attention());
    }

    public SwinSpec spec() {
        return spec;
    }

    /** The window geometry of every block, in depth order (for tests and diagnostics). */
    List<WindowGeometry> geometries() {
        return stages.stream().flatMap(s -> s.blocks().stream()).map(SwinBlock::geometry).toList();
    }


    @Override
    public NDArray features(ParameterStore store, NDArray images, boolean training) {
        NDArray x = patchEmbed.forwardGrid(store, images, training);
        if (x.getShape().get(1) != grid || x.getShape().get(2) != grid) {
            throw new PeftException(spec.name() + " was built for " + imageSize + "px images (" + grid + "x" + grid
                    + " patches), got " + images.getShape() + "; set backbone.image-size");
        }
        NDList h = patchNorm.forward(store, new NDList(x), training);
        for (SwinStage stage : stages) {
            h = stage.forward(store, h, training);
        }
        NDArray normed = norm.forward(store, h, training).singletonOrThrow();
        Shape s = normed.getShape();
        return normed.reshape(s.get(0), s.get(1) * s.get(2), s.get(3)).mean(new int[] {1});
    }





    @Override
    public DataConfig dataConfig() {
        return DataConfig.imagenet(imageSize);
    }







    @Override
    public Map<String, NDArray> convertCheckpoint(Map<String, NDArray> tensors, NDManager manager) {
        return SwinCheckpoint.convert(tensors, parameters());
    }
}
