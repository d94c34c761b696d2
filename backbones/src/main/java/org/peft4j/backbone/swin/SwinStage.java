package org.peft4j.backbone.swin;

import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.List;
import org.peft4j.api.nn.BlockOutputs;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.backbone.layers.ParameterIndex;
import org.peft4j.backbone.layers.StochasticDepth;

/**
 * One stage {@code layers.s} in timm's layout: an optional patch merging at the START ({@code
 * layers.s.downsample}, every stage but the first), then blocks alternating plain and shifted windows. The
 * stream is {@code NDList(map)}, or {@code NDList(map, prompts)} once prompts were inserted ({@link SwinBlock}).
 */
final class SwinStage extends ModuleBlock {

    private final PatchMerging downsample;
    private final List<SwinBlock> blocks = new ArrayList<>();
    private final List<AdapterSite> sites = new ArrayList<>();
    private final BlockOutputs outputs;
    private final int firstDepth;

    /**
     * @param resolution the feature map side of this stage's blocks as timm books it (after any merging)
     * @param side the side the blocks' feature map really has (merging pads odd maps: rounded up)
     * @param firstDepth global index of the stage's first block
     * @param dropPath rates of every block of the network, indexed by global depth
     */
    SwinStage(SwinSpec spec, int stage, int resolution, int side, int firstDepth, double[] dropPath, float eps,
            ParameterIndex keys, BlockOutputs outputs, StochasticDepth stochastic) {
        this.outputs = outputs;
        this.firstDepth = firstDepth;
        String prefix = "layers." + stage;
        int dim = spec.stageDim(stage);
        if (stage > 0) {
            downsample = child("downsample", new PatchMerging(prefix + ".downsample", spec.stageDim(stage - 1), dim, eps));
            keys.putSite(downsample.norm());
            keys.putSite(downsample.reduction());
            sites.add(downsample.norm());
            sites.add(downsample.reduction());
        } else {
            downsample = null;
        }
        for (int i = 0; i < spec.depths().get(stage); i++) {
            int depth = firstDepth + i;
            WindowGeometry geometry = WindowGeometry.of(resolution, spec.windowSize(), i % 2 == 1);
            SwinBlock.Config config = new SwinBlock.Config(prefix + ".blocks." + i, depth, dim, spec.heads().get(stage),
                    spec.mlpHidden(stage), side, geometry, spec.qkvBias(), eps, dropPath[depth]);
            SwinBlock block = child("blocks_" + i, new SwinBlock(config, keys, stochastic));
            blocks.add(block);
            sites.addAll(block.sites());
        }
    }

    List<AdapterSite> sites() {
        return sites;
    }

    List<SwinBlock> blocks() {
        return blocks;
    }

    @Override
    protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDList x = downsample == null ? inputs : downsample.forward(store, inputs, training);
        for (int i = 0; i < blocks.size(); i++) {
            x = blocks.get(i).forward(store, x, training);
            outputs.record(firstDepth + i, x.get(0)); // the feature map; prompts, if any, ride along as x.get(1)
        }
        return x;
    }
}
