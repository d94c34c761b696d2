package org.peft4j.api.testing;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.LinearSite;
import org.peft4j.api.site.OutputSlice;
import org.peft4j.api.site.SiteBlock;

/**
 * Lets a method module test an adapter on one frozen site without a backbone: attach, run forward in
 * training or eval mode, compare merged with unmerged output, and read the gradients one step gives.
 *
 * <pre>{@code
 * try (SiteHarness h = SiteHarness.linear(16, 48, SiteHarness.qkvSlices(16), 42)) {
 *     h.attach(new LoraAdapter(...));
 *     NDArray x = h.randomInput(4, 7);
 *     assertThat(h.maxMergeDifference(x)).isLessThanOrEqualTo(1e-5);
 * }
 * }</pre>
 */
public final class SiteHarness implements AutoCloseable {

    private final NDManager manager;
    private final SiteBlock site;
    private final ParameterStore store;

    private SiteHarness(NDManager manager, SiteBlock site) {
        this.manager = manager;
        this.site = site;
        this.store = new ParameterStore(manager, false);
        site.initialize(manager, DataType.FLOAT32);
        site.freezeParameters(true);
    }

    /** A frozen Linear site {@code blocks.0.attn.qkv} (or any shape) with random weights and bias. */
    public static SiteHarness linear(int in, int out, List<OutputSlice> slices, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        NDManager manager = NDManager.newBaseManager();
        LinearSite site = LinearSite.builder()
                .setId("blocks.0.attn.qkv")
                .setFeatures(in, out)
                .optDepth(0)
                .optSlices(slices)
                .optWeightInit(org.peft4j.api.nn.Initializers.normal(0.2))
                .build();
        SiteHarness harness = new SiteHarness(manager, site);
        // a non-zero bias, so merges that forget the bias show up
        Parameter bias = site.bias().orElseThrow();
        NDArray b = manager.randomNormal(0f, 0.1f, bias.getShape(), DataType.FLOAT32);
        bias.getArray().intern(b);
        return harness;
    }

    /** Wraps any site block (norm, branch, tokens) the caller built. */
    public static SiteHarness of(SiteBlock site, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        return new SiteHarness(NDManager.newBaseManager(), site);
    }

    /** q, k, v slices of a fused qkv with {@code dim} features each. */
    public static List<OutputSlice> qkvSlices(int dim) {
        return List.of(new OutputSlice("q", 0, dim), new OutputSlice("k", dim, 2 * dim),
                new OutputSlice("v", 2 * dim, 3 * dim));
    }

    public SiteBlock site() {
        return site;
    }

    public NDManager manager() {
        return manager;
    }

    /** Attaches and initialises an adapter (its parameters train unless the adapter froze them). */
    public <A extends Adapter> A attach(A adapter) {
        adapter.initialize(manager, DataType.FLOAT32);
        site.attach(adapter);
        return adapter;
    }

    /** N(0, 1) input {@code [batch, tokens, in]}. */
    public NDArray randomInput(int batch, int tokens) {
        return manager.randomNormal(new Shape(batch, tokens, site.inFeatures()));
    }

    /** The site's output for {@code x}. */
    public NDArray forward(NDArray x, boolean training) {
        return site.forward(store, new NDList(x), training).singletonOrThrow();
    }

    /** Max |eval output unmerged - eval output merged| for {@code x}; the site is unmerged again after. */
    public double maxMergeDifference(NDArray x) {
        NDArray before = forward(x, false);
        site.merge();
        try {
            NDArray after = forward(x, false);
            return before.sub(after).abs().max().getFloat();
        } finally {
            site.unmerge();
        }
    }

    /**
     * One backward pass of {@code loss(output)} in training mode; returns copies of the gradients of every
     * trainable adapter parameter, keyed {@code <adapter>.<parameter name>}, and clears them again.
     */
    public Map<String, NDArray> gradients(NDArray x, Function<NDArray, NDArray> loss) {
        Map<String, NDArray> grads = new LinkedHashMap<>();
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(loss.apply(forward(x, true)));
        }
        for (Adapter adapter : site.adapters()) {
            for (Pair<String, Parameter> p : adapter.getParameters()) {
                Parameter parameter = p.getValue();
                if (parameter.requiresGradient()) {
                    NDArray grad = parameter.getArray().getGradient();
                    grads.put(adapter.name() + "." + p.getKey(), grad.duplicate());
                    grad.subi(grad.duplicate());
                }
            }
        }
        return grads;
    }

    @Override
    public void close() {
        manager.close();
    }
}
