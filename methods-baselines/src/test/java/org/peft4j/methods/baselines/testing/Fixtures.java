package org.peft4j.methods.baselines.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteBlock;

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
        public void close() {
            manager.close();
        }
    }

    /** Shape helper for readable assertions. */
    public static Shape shape(long... dims) {
        return new Shape(dims);
    }
}
