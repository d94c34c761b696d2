package org.peft4j.api.testing;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.Intermediates;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.nn.BlockOutputs;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.NormSite;
import org.peft4j.api.site.ResidualSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.TokenSite;

/**
 * A small token model with every site kind and ViT's site ids, for testing a method's {@code attach},
 * hooks and merge without a backbone. Input {@code [B, N, dim]} tokens (token 0 plays the cls token),
 * output {@code [B, classes]} logits. Per block: tokens -> the attention branch {@code attn} (norm1, attn.qkv,
 * attn.proj: a linear stand-in for attention, so tokens do not mix), followed by its residual site {@code
 * drop_path1} -> residual; then the FFN branch {@code mlp} (norm2, then the MLP site {@code mlp.inner}: mlp.fc1,
 * GELU, mlp.fc2), followed by {@code drop_path2} -> residual. It has no layer scale or drop path, so adapters on a
 * branch and on its residual site compute the same.
 */
public final class TinyModel extends ModuleBlock implements AdaptableModel, AutoCloseable {

    private final NDManager manager;
    private final ParameterStore store;
    private final List<AdapterSite> sites = new ArrayList<>();
    private final Map<String, Parameter> backbone = new LinkedHashMap<>();
    private final Map<String, Parameter> head = new LinkedHashMap<>();
    private final List<Block> blocks = new ArrayList<>();
    private final LinearSite headSite;
    private final BlockOutputs blockOutputs = new BlockOutputs();
    private final int depth;

    public TinyModel(int dim, int depth, int classes, long seed) {
        this.depth = depth;
        Engine.getInstance().setRandomSeed((int) seed);
        this.manager = NDManager.newBaseManager();
        for (int i = 0; i < depth; i++) {
            blocks.add(child("block" + i, new Block(i, dim)));
        }
        headSite = child("head", LinearSite.builder().setId("head").setFeatures(dim, classes).build());
        initialize(manager, DataType.FLOAT32);
        // timm-style keys: site id + parameter name
        for (Block block : blocks) {
            for (AdapterSite site : block.sites) {
                sites.add(site);
                site.weight().ifPresent(p -> backbone.put(site.id() + ".weight", p));
                site.bias().ifPresent(p -> backbone.put(site.id() + ".bias", p));
            }
        }
        head.put("head.weight", headSite.weight().orElseThrow());
        head.put("head.bias", headSite.bias().orElseThrow());
        backbone.values().forEach(p -> p.freeze(true));
        this.store = new ParameterStore(manager, false);
    }

    @Override
    public NDManager manager() {
        return manager;
    }

    public ParameterStore store() {
        return store;
    }

    /** Logits for tokens {@code [B, N, dim]}. */
    public NDArray logits(NDArray tokens, boolean training) {
        return forward(store, new NDList(tokens), training).singletonOrThrow();
    }

    /** Logits and the outputs of the blocks at {@code depths} from one pass. */
    public Intermediates forwardIntermediates(NDArray tokens, boolean training, Set<Integer> depths) {
        return blockOutputs.during(depths, depth, () -> logits(tokens, training));
    }

    /** The training-mode forward pass as the runner hands it to {@link TrainingHooks#loss}. */
    public TrainingHooks.Forward trainingForward() {
        return new TrainingHooks.Forward() {
            @Override
            public NDArray logits(NDArray images) {
                return TinyModel.this.logits(images, true);
            }

            @Override
            public Intermediates withBlocks(NDArray images, Set<Integer> depths) {
                return forwardIntermediates(images, true, depths);
            }
        };
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        for (int i = 0; i < blocks.size(); i++) {
            x = blockOutputs.record(i, blocks.get(i).forward(ps, new NDList(x), training).singletonOrThrow());
        }
        NDArray pooled = x.get(":, 0, :");
        return headSite.forward(ps, new NDList(pooled), training);
    }

    @Override
    public String name() {
        return "tiny";
    }

    @Override
    public List<AdapterSite> sites() {
        return sites;
    }

    @Override
    public int depth() {
        return depth;
    }

    @Override
    public Map<String, Parameter> backboneParameters() {
        return backbone;
    }

    @Override
    public Map<String, Parameter> headParameters() {
        return head;
    }

    @Override
    public void close() {
        manager.close();
    }

    private static final class Block extends ModuleBlock {
        final List<AdapterSite> sites = new ArrayList<>();
        final TokenSite tokens;
        final ResidualSite attn;
        final ResidualSite mlp;

        Block(int index, int dim) {
            String p = "blocks." + index;
            tokens = child("tokens", new TokenSite(p, index, dim, 1));
            // parameters are declared in the same order as before the branch existed: same seed, same weights
            BranchSite attnBranch = new BranchSite(p + ".attn", SiteKind.ATTENTION, index, dim, new Attn(p, index, dim));
            attn = child("attn", new ResidualSite(p + ".drop_path1", attnBranch, null));
            BranchSite mlpBranch = new BranchSite(p + ".mlp", SiteKind.FFN, index, dim, new Ffn(p, index, dim));
            mlp = child("mlp", new ResidualSite(p + ".drop_path2", mlpBranch, null));
            Attn a = (Attn) attnBranch.branch();
            Ffn ffn = (Ffn) mlpBranch.branch();
            sites.addAll(List.of(tokens, a.norm1, a.qkv, a.proj, attnBranch, attn, mlpBranch, ffn.norm2, ffn.fc1, ffn.fc2,
                    ffn.inner, mlp));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray x = tokens.forward(ps, inputs, training).singletonOrThrow();
            x = x.add(attn.forward(ps, new NDList(x), training).singletonOrThrow());
            x = x.add(mlp.forward(ps, new NDList(x), training).singletonOrThrow());
            return new NDList(x);
        }
    }

    /** The attention stand-in: norm1, qkv, proj (no token mixing). */
    private static final class Attn extends ModuleBlock {
        final NormSite norm1;
        final LinearSite qkv;
        final LinearSite proj;

        Attn(String p, int index, int dim) {
            norm1 = child("norm1", new NormSite(p + ".norm1", index, dim, 1e-6f));
            qkv = child("qkv", LinearSite.builder().setId(p + ".attn.qkv").setFeatures(dim, 3 * dim)
                    .optDepth(index).optSlices(SiteHarness.qkvSlices(dim)).optWeightInit(Initializers.normal(0.2)).build());
            proj = child("proj", LinearSite.builder().setId(p + ".attn.proj").setFeatures(3 * dim, dim)
                    .optDepth(index).optWeightInit(Initializers.normal(0.2)).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray h = norm1.forward(ps, inputs, training).singletonOrThrow();
            h = qkv.forward(ps, new NDList(h), training).singletonOrThrow();
            return proj.forward(ps, new NDList(h), training);
        }
    }

    /** norm2, then the MLP site {@code mlp.inner} over fc1, GELU, fc2. */
    private static final class Ffn extends ModuleBlock {
        final NormSite norm2;
        final BranchSite inner;
        final LinearSite fc1;
        final LinearSite fc2;

        Ffn(String p, int index, int dim) {
            norm2 = child("norm2", new NormSite(p + ".norm2", index, dim, 1e-6f));
            fc1 = LinearSite.builder().setId(p + ".mlp.fc1").setFeatures(dim, 2 * dim)
                    .optDepth(index).optWeightInit(Initializers.normal(0.2)).build();
            fc2 = LinearSite.builder().setId(p + ".mlp.fc2").setFeatures(2 * dim, dim)
                    .optDepth(index).optWeightInit(Initializers.normal(0.2)).build();
            inner = child("inner", new BranchSite(p + ".mlp.inner", SiteKind.MLP, index, dim, new Mlp(fc1, fc2)));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            return inner.forward(ps, norm2.forward(ps, inputs, training), training);
        }
    }

    private static final class Mlp extends ModuleBlock {
        final LinearSite fc1;
        final LinearSite fc2;

        Mlp(LinearSite fc1, LinearSite fc2) {
            this.fc1 = child("fc1", fc1);
            this.fc2 = child("fc2", fc2);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
            NDArray h = Activation.gelu(fc1.forward(ps, inputs, training).singletonOrThrow());
            return fc2.forward(ps, new NDList(h), training);
        }
    }
}
