package org.peft4j.methods.baselines.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.ModuleBlock;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.BranchSite;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.ResidualSite;
import org.peft4j.api.site.SiteBlock;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.testing.SiteHarness;

/** Small helpers the baseline tests share. */
public final class Fixtures {

    private Fixtures() {}

    /** Replaces a parameter's values (keeps it trainable if it was). */
    public static void set(Parameter parameter, NDManager manager, float... values) {
        NDArray array = parameter.getArray();
        boolean grad = parameter.requiresGradient();
        array.intern(manager.create(values, parameter.getShape()));
        if (grad) {
            array.setRequiresGradient(true);
        }
    }

    /** Replaces a parameter's values by N(mean, std^2) draws. */
    public static void randomize(Parameter parameter, NDManager manager, float mean, float std) {
        NDArray array = parameter.getArray();
        boolean grad = parameter.requiresGradient();
        array.intern(manager.randomNormal(mean, std, parameter.getShape(), DataType.FLOAT32));
        if (grad) {
            array.setRequiresGradient(true);
        }
    }

    /** Max |a - b|. */
    public static float maxDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    /**
     * What the runner counts for the "# param" column: backbone parameters requiring gradient plus every
     * attached adapter's parameters requiring gradient (the head excluded).
     */
    public static long trainable(AdaptableModel model) {
        long count = 0;
        for (Parameter p : model.backboneParameters().values()) {
            if (p.requiresGradient()) {
                count += p.getShape().size();
            }
        }
        for (AdapterSite site : model.sites()) {
            for (Adapter adapter : site.adapters()) {
                for (Pair<String, Parameter> p : adapter.getParameters()) {
                    if (p.getValue().requiresGradient()) {
                        count += p.getValue().getShape().size();
                    }
                }
            }
        }
        return count;
    }

    /** Ids of the sites that carry adapters, with the adapters' names: {@code blocks.0.mlp[adapter]}. */
    public static List<String> adapted(AdaptableModel model) {
        List<String> out = new ArrayList<>();
        for (AdapterSite site : model.sites()) {
            if (!site.adapters().isEmpty()) {
                out.add(site.id() + site.adapters().stream().map(Adapter::name).toList());
            }
        }
        return out;
    }

    /**
     * A residual site {@code blocks.0.drop_path2} over an FFN branch {@code blocks.0.mlp} whose frozen op is a random
     * linear map, with {@code factor} standing in for layer scale (and a kept drop path): output = factor * W x.
     */
    public static SiteHarness residual(int dim, float factor, long seed) {
        LinearSite inner = LinearSite.builder().setId("blocks.0.inner").setFeatures(dim, dim)
                .optWeightInit(Initializers.normal(0.5)).build();
        BranchSite branch = new BranchSite("blocks.0.mlp", SiteKind.FFN, 0, dim, inner);
        return SiteHarness.of(new ResidualSite("blocks.0.drop_path2", branch, new Times(factor)), seed);
    }

    /** Multiplies by a constant (a stand-in for layer scale). */
    public static final class Times extends ModuleBlock {
        private final float factor;

        public Times(float factor) {
            this.factor = factor;
        }

        @Override
        protected NDList forwardInternal(ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
            return new NDList(inputs.singletonOrThrow().mul(factor));
        }
    }

    /** PyTorch's {@code layer_norm} over the last dimension, written out: (x - mean) / sqrt(var + eps) * w + b. */
    public static NDArray layerNorm(NDArray x, NDArray weight, NDArray bias, float eps) {
        int last = x.getShape().dimension() - 1;
        NDArray mean = x.mean(new int[] {last}, true);
        NDArray var = x.sub(mean).square().mean(new int[] {last}, true);
        return x.sub(mean).div(var.add(eps).sqrt()).mul(weight).add(bias);
    }

    /** An adapter that passes the output through and remembers it (attach it after the adapter under test). */
    public static final class Probe extends AdapterBlock {
        public NDArray last;

        public Probe() {
            super("probe");
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            last = output;
            return output;
        }
    }

    /** An AdaptableModel over hand-built sites (no forward): for attach-time checks. */
    public static final class SitesOnly implements AdaptableModel, AutoCloseable {
        private final NDManager manager = NDManager.newBaseManager();
        private boolean frozenEval;
        private boolean promptsPooled;
        private final List<AdapterSite> sites;
        private final Map<String, Parameter> backbone = new LinkedHashMap<>();

        public SitesOnly(SiteBlock... sites) {
            this.sites = List.of(sites);
            for (SiteBlock site : sites) {
                site.initialize(manager, DataType.FLOAT32);
                site.weight().ifPresent(p -> backbone.put(site.id() + ".weight", p));
                site.bias().ifPresent(p -> backbone.put(site.id() + ".bias", p));
            }
            backbone.values().forEach(p -> p.freeze(true));
        }

        @Override
        public String name() {
            return "sites-only";
        }

        @Override
        public List<AdapterSite> sites() {
            return sites;
        }

        @Override
        public int depth() {
            return (int) sites.stream().mapToInt(AdapterSite::depth).max().orElse(-1) + 1;
        }

        @Override
        public Map<String, Parameter> backboneParameters() {
            return backbone;
        }

        @Override
        public Map<String, Parameter> headParameters() {
            return Map.of();
        }

        @Override
        public NDManager manager() {
            return manager;
        }

        @Override
        public void setFrozenBackboneEval(boolean eval) {
            frozenEval = eval;
        }

        /** Adds a frozen backbone parameter that belongs to no site (like Swin's relative position bias table). */
        public Parameter addParameter(String key, Shape shape) {
            Parameter p = Parameter.builder().setName(key).setType(Parameter.Type.OTHER).optShape(shape)
                    .optInitializer(Initializers.normal(0.02)).build();
            p.initialize(manager, DataType.FLOAT32);
            p.freeze(true);
            backbone.put(key, p);
            return p;
        }

        @Override
        public void setPromptsPooled(boolean pooled) {
            promptsPooled = pooled;
        }

        /** What the method asked with {@link #setPromptsPooled}. */
        public boolean promptsPooled() {
            return promptsPooled;
        }

        /** What the method asked with {@link #setFrozenBackboneEval}. */
        public boolean frozenEval() {
            return frozenEval;
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    /** Shape helper for readable assertions. */
    public static Shape shape(long... dims) {
        return new Shape(dims);
    }
}
