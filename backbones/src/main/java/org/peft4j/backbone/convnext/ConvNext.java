package org.peft4j.backbone.convnext;

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
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.IdentitySite;
import org.peft4j.api.site.NormSite;
import org.peft4j.backbone.layers.BackboneBlock;
import org.peft4j.backbone.layers.DropPath;
import org.peft4j.backbone.layers.LayerNorm2d;

/**
 * timm's {@code ConvNeXt} with the default patch stem and {@code conv_mlp=False}: stem (4x4 stride-4 conv
 * {@code stem.0}, LayerNorm2d {@code stem.1}), stages of {@link ConvNextBlock}s with a downsample at the start
 * of every stage but the first, then the head: global average pool, {@code head.norm} (LayerNorm), {@code
 * head.fc}. Checkpoint keys are timm's; the official facebookresearch layout is converted on load.
 *
 * <p>Sites, in forward order: {@code stem.0} (CONV, depth -1), {@code stem.1} (NORM, depth -1); per stage
 * {@code stages.s.downsample.0} (NORM) and {@code .1} (CONV), both depth -1, in stages after the first; per block
 * {@code stages.s.blocks.j.conv_dw} (CONV), {@code .norm} (NORM), {@code .mlp.fc1}, {@code .mlp.fc2} (LINEAR),
 * {@code .mlp} (FFN; input = the normed channels-last tensor, output = mlp(input)) and {@code .drop_path}
 * (FFN_RESIDUAL), with depth = the block's index over all stages (0 to {@link #depth()} - 1); then {@code
 * norm_pre} (IDENTITY, channels-last, before pooling: timm's Identity there, where SSF's code scales and shifts)
 * and {@code head.norm} (NORM, after pooling). NORM sites normalise the channels of a channels-last tensor; CONV
 * sites see NCHW. There are no attention or token sites. The classifier is {@code head.fc}; {@code head.norm}
 * belongs to the backbone.
 */
public final class ConvNext extends BackboneBlock {

    private static final String CLASSIFIER = "head.fc";

    private final ConvNextSpec spec;
    private final int imageSize;
    private final int inChannels;
    private final ConvSite stemConv;
    private final LayerNorm2d stemNorm;
    private final List<ConvNextStage> stages = new ArrayList<>();
    private final IdentitySite normPre;
    private final NormSite headNorm;

    ConvNext(ConvNextSpec spec, BackboneOptions options) {
        super(spec.name(), options.numClasses(), spec.numFeatures(), spec.totalDepth());
        this.spec = spec;
        this.imageSize = options.imageSize() > 0 ? options.imageSize() : spec.imageSize();
        if (imageSize < spec.totalStride()) {
            throw new PeftException(spec.name() + ": image size " + imageSize + " is smaller than the network's stride "
                    + spec.totalStride() + "; set backbone.image-size to at least " + spec.totalStride());
        }
        this.inChannels = options.inChannels();
        int stem = ConvNextSpec.STEM_STRIDE;
        int d0 = spec.dims().get(0);
        stemConv = child("stem_0", new ConvSite("stem.0", -1, new ConvSite.Geometry(inChannels, d0, stem, stem, 0, 1),
                Initializers.truncNormal(0.02)));
        NormSite stemNormSite = new NormSite("stem.1", -1, d0, 1e-6f);
        stemNorm = child("stem_1", new LayerNorm2d(stemNormSite));
        keys.putSite(stemConv);
        keys.putSite(stemNormSite);
        sites.add(stemConv);
        sites.add(stemNormSite);

        double[] dropPath = DropPath.schedule(options.dropPathRate(), spec.totalDepth());
        int firstDepth = 0;
        for (int s = 0; s < spec.stages(); s++) {
            ConvNextStage stage = child("stages_" + s, new ConvNextStage(spec, s, firstDepth, dropPath, keys, blockOutputs,
                    stochasticDepth));
            stages.add(stage);
            sites.addAll(stage.sites());
            firstDepth += spec.depths().get(s);
        }
        int d = spec.numFeatures();
        normPre = child("norm_pre", new IdentitySite("norm_pre", -1, d));
        sites.add(normPre);
        headNorm = child("head_norm", new NormSite("head.norm", -1, d, 1e-6f));
        keys.putSite(headNorm);
        sites.add(headNorm);
        addClassifier(CLASSIFIER);
    }

    public ConvNextSpec spec() {
        return spec;
    }


    /** Stem and stages: the last stage's feature map {@code [B, C, H/stride, W/stride]}. */
    public NDArray featureMap(ParameterStore store, NDArray images, boolean training) {
        Shape s = images.getShape();
        if (s.dimension() != 4 || s.get(1) != inChannels || s.get(2) < spec.totalStride() || s.get(3) < spec.totalStride()) {
            throw new PeftException(spec.name() + " expects images [B, " + inChannels + ", H, W] with H, W >= "
                    + spec.totalStride() + ", got " + s);
        }
        NDList x = stemNorm.forward(store, stemConv.forward(store, new NDList(images), training), training);
        for (ConvNextStage stage : stages) {
            x = stage.forward(store, x, training);
        }
        return x.singletonOrThrow();
    }

    @Override
    public boolean averagePooled() {
        return true;
    }

    /** Pooled pre-logits: the feature map ({@code norm_pre}) averaged over space, then {@code head.norm}. */
    @Override
    public NDArray features(ParameterStore store, NDArray images, boolean training) {
        NDArray map = featureMap(store, images, training);
        Shape s = map.getShape();
        NDArray pooled;
        if (normPre.adapters().isEmpty()) {
            // DJL's PyTorch mean takes one axis only: flatten the spatial dimensions first
            pooled = map.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).mean(new int[] {2});
        } else {
            NDArray channelsLast = normPre.forward(store, new NDList(map.transpose(0, 2, 3, 1)), training).singletonOrThrow();
            pooled = channelsLast.reshape(s.get(0), s.get(2) * s.get(3), s.get(1)).mean(new int[] {1});
        }
        return headNorm.forward(store, new NDList(pooled), training).singletonOrThrow();
    }





    @Override
    public DataConfig dataConfig() {
        return DataConfig.imagenet(imageSize);
    }







    @Override
    public Map<String, NDArray> convertCheckpoint(Map<String, NDArray> tensors, NDManager manager) {
        return ConvNextCheckpoint.convert(tensors);
    }
}
