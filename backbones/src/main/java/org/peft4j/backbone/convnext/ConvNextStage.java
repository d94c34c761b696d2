package org.peft4j.backbone.convnext;

import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import org.peft4j.api.nn.BlockOutputs;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.ConvSite;
import org.peft4j.api.site.NormSite;
import org.peft4j.backbone.layers.LayerNorm2d;
import org.peft4j.backbone.layers.ParameterIndex;
import org.peft4j.backbone.layers.StochasticDepth;

/**
 * timm's {@code ConvNeXtStage}: stages after the first start with a downsample ({@code stages.s.downsample.0},
 * a LayerNorm2d whose norm is a NORM site at depth -1, then {@code .1}, a 2x2 stride-2 conv, a CONV site at
 * depth -1), followed by the stage's blocks.
 */
final class ConvNextStage extends ModuleBlock {

    private final LayerNorm2d downsampleNorm;
    private final ConvSite downsampleConv;
    private final List<ConvNextBlock> blocks = new ArrayList<>();
    private final List<AdapterSite> sites = new ArrayList<>();
    private final BlockOutputs outputs;
    private final int firstDepth;

    /**
     * @param firstDepth global index of this stage's first block
     * @param dropPath drop-path rate of every block of the network, by global index
     */
    ConvNextStage(ConvNextSpec spec, int stage, int firstDepth, double[] dropPath, ParameterIndex keys, BlockOutputs outputs,
            StochasticDepth stochastic) {
        this.outputs = outputs;
        this.firstDepth = firstDepth;
        String prefix = "stages." + stage;
        int dim = spec.dims().get(stage);
        if (stage > 0) {
            int in = spec.dims().get(stage - 1);
            NormSite norm = new NormSite(prefix + ".downsample.0", -1, in, 1e-6f);
            downsampleNorm = child("downsample_0", new LayerNorm2d(norm));
            downsampleConv = child("downsample_1", new ConvSite(prefix + ".downsample.1", -1,
                    new ConvSite.Geometry(in, dim, 2, 2, 0, 1), Initializers.truncNormal(0.02)));
            keys.putSite(norm);
            keys.putSite(downsampleConv);
            sites.add(norm);
            sites.add(downsampleConv);
        } else {
            downsampleNorm = null; // the stem already has stride 4 and dims[0] channels (timm's Identity)
            downsampleConv = null;
        }
        for (int j = 0; j < spec.depths().get(stage); j++) {
            int depth = firstDepth + j;
            ConvNextBlock block = child("blocks_" + j,
                    new ConvNextBlock(prefix + ".blocks." + j, depth, dim, spec, dropPath[depth], keys, stochastic));
            blocks.add(block);
            sites.addAll(block.sites());
        }
    }

    List<AdapterSite> sites() {
        return sites;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = inputs;
        if (downsampleNorm != null) {
            x = downsampleConv.forward(store, downsampleNorm.forward(store, x, training), training);
        }
        for (int i = 0; i < blocks.size(); i++) {
            x = new NDList(outputs.record(firstDepth + i, blocks.get(i).forward(store, x, training).singletonOrThrow()));
        }
        return x;
    }
}
