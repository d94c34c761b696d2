package org.peft4j.backbone.vit;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.DataConfig;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;
import org.peft4j.api.site.NormSite;
import org.peft4j.backbone.layers.BackboneBlock;
import org.peft4j.backbone.layers.DropPath;
import org.peft4j.backbone.layers.PatchEmbed;

/**
 * timm's VisionTransformer: patch embedding, cls token, learned position embedding, pre-norm blocks with a
 * fused qkv, final norm, token or average pooling, linear head. Checkpoint keys are timm's.
 */
public final class VisionTransformer extends BackboneBlock {

    private static final int PREFIX_TOKENS = 1;

    private final VitSpec spec;
    private final int imageSize;
    private final int grid;
    private final PatchEmbed patchEmbed;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final List<VitBlock> blocks = new ArrayList<>();
    private final NormSite norm;
    private final NormSite fcNorm;

    VisionTransformer(VitSpec spec, BackboneOptions options) {
        super(spec.name(), options.numClasses(), spec.embedDim(), spec.depth());
        this.spec = spec;
        this.imageSize = options.imageSize() > 0 ? options.imageSize() : spec.imageSize();
        if (imageSize % spec.patchSize() != 0) {
            throw new PeftException(spec.name() + ": image size " + imageSize + " is not a multiple of patch size " + spec.patchSize());
        }
        this.grid = imageSize / spec.patchSize();
        int d = spec.embedDim();
        patchEmbed = child("patch_embed", new PatchEmbed("patch_embed.proj", options.inChannels(), d, spec.patchSize()));
        clsToken = param("cls_token", new Shape(1, 1, d), Initializers.normal(1e-6));
        posEmbed = param("pos_embed", new Shape(1, PREFIX_TOKENS + (long) grid * grid, d), Initializers.truncNormal(0.02));
        keys.put("cls_token", clsToken);
        keys.put("pos_embed", posEmbed);
        keys.putSite(patchEmbed.proj());
        sites.add(patchEmbed.proj());

        double[] dropPath = DropPath.schedule(options.dropPathRate(), spec.depth());
        for (int i = 0; i < spec.depth(); i++) {
            VitBlock block = child("blocks_" + i, new VitBlock(spec, i, dropPath[i], PREFIX_TOKENS, keys));
            blocks.add(block);
            sites.addAll(block.sites());
        }
        boolean avg = spec.globalPool().equals("avg");
        norm = avg ? null : child("norm", new NormSite("norm", -1, d, 1e-6f));
        fcNorm = avg ? child("fc_norm", new NormSite("fc_norm", -1, d, 1e-6f)) : null;
        NormSite finalNorm = avg ? fcNorm : norm;
        keys.putSite(finalNorm);
        sites.add(finalNorm);
        addClassifier("head");
        useAttention(options.attention());
    }

    public VitSpec spec() {
        return spec;
    }


    @Override
    public NDArray features(ParameterStore store, NDArray images, boolean training) {
        NDArray x = patchEmbed.forward(store, new NDList(images), training).singletonOrThrow();
        long b = x.getShape().get(0);
        long patches = x.getShape().get(1);
        if (patches != (long) grid * grid) {
            throw new PeftException(spec.name() + " was built for " + imageSize + "px images (" + grid + "x" + grid
                    + " patches), got " + images.getShape() + "; set backbone.image-size");
        }
        NDArray cls = Ops.expandLike(value(store, clsToken, x, training), x, new Shape(b, 1, spec.embedDim()));
        x = cls.concat(x, 1).add(value(store, posEmbed, x, training));
        for (int i = 0; i < blocks.size(); i++) {
            x = blockOutputs.record(i, blocks.get(i).forward(store, new NDList(x), training).singletonOrThrow());
        }
        if (fcNorm != null) {
            NDArray patchTokens = x.get(":, -" + patches + ":, :"); // prompts, if any, sit before the patches
            return fcNorm.forward(store, new NDList(patchTokens.mean(new int[] {1})), training).singletonOrThrow();
        }
        x = norm.forward(store, new NDList(x), training).singletonOrThrow();
        return x.get(":, 0, :");
    }





    @Override
    public DataConfig dataConfig() {
        return spec.inceptionNorm() ? DataConfig.inception(imageSize) : DataConfig.imagenet(imageSize);
    }







    @Override
    public Map<String, NDArray> convertCheckpoint(Map<String, NDArray> tensors, NDManager manager) {
        return VitCheckpoint.convert(tensors, this, grid, PREFIX_TOKENS, manager);
    }
}
