package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import java.util.List;
import java.util.Optional;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.nn.Ops;

/** A frozen {@code y = x W^T + b} over the last dimension (PyTorch layout: weight {@code [out, in]}). */
public final class LinearSite extends SiteBlock {

    private final int in;
    private final int out;
    private final List<OutputSlice> slices;
    private final Parameter weight;
    private final Parameter bias;

    private LinearSite(Builder builder) {
        super(builder.id, SiteKind.LINEAR, builder.depth);
        this.in = builder.in;
        this.out = builder.out;
        this.slices = List.copyOf(builder.slices);
        this.weight = param("weight", new Shape(out, in), builder.weightInit);
        this.bias = builder.bias ? param("bias", new Shape(out), Initializers.zeros()) : null;
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        return new NDList(runAdapters(store, x, frozen(store, x, training), training));
    }

    /**
     * The forward as its {@link #slices()}, in order, each after its adapters ({@code q, k, v} of a fused qkv):
     * views where no adapter touched the slice, so a caller that wants the pieces pays for no concatenation.
     */
    public NDList forwardSlices(ParameterStore store, NDArray x, boolean training) {
        if (slices.isEmpty()) {
            throw new IllegalStateException("site " + id() + " has no output slices");
        }
        return runAdaptersOnSlices(store, x, frozen(store, x, training), training);
    }

    private NDArray frozen(ParameterStore store, NDArray x, boolean training) {
        NDArray w = value(store, weight, x, training);
        NDArray b = bias == null ? null : value(store, bias, x, training);
        return Ops.linear(x, w, b);
    }

    @Override
    public int inFeatures() {
        return in;
    }

    @Override
    public int outFeatures() {
        return out;
    }

    @Override
    public List<OutputSlice> slices() {
        return slices;
    }

    @Override
    public Optional<Parameter> weight() {
        return Optional.of(weight);
    }

    @Override
    public Optional<Parameter> bias() {
        return Optional.ofNullable(bias);
    }

    /** Builder: {@code setX} for what is required, {@code optX} for what is optional. */
    public static final class Builder {
        private String id;
        private int depth = -1;
        private int in;
        private int out;
        private boolean bias = true;
        private List<OutputSlice> slices = List.of();
        private Initializer weightInit = Initializers.truncNormal(0.02);

        public Builder setId(String id) {
            this.id = id;
            return this;
        }

        public Builder setFeatures(int in, int out) {
            this.in = in;
            this.out = out;
            return this;
        }

        public Builder optDepth(int depth) {
            this.depth = depth;
            return this;
        }

        public Builder optBias(boolean bias) {
            this.bias = bias;
            return this;
        }

        public Builder optSlices(List<OutputSlice> slices) {
            this.slices = slices;
            return this;
        }

        public Builder optWeightInit(Initializer weightInit) {
            this.weightInit = weightInit;
            return this;
        }

        public LinearSite build() {
            if (id == null || id.isEmpty()) {
                throw new IllegalArgumentException("LinearSite needs an id");
            }
            if (in <= 0 || out <= 0) {
                throw new IllegalArgumentException(
                        "LinearSite " + id + " needs positive features, got " + in + " -> " + out);
            }
            // the site splits its output at the slices' edges and joins it again (SiteBlock#runAdaptersOnSlices)
            int next = 0;
            for (OutputSlice slice : slices) {
                if (slice.start() != next) {
                    throw new IllegalArgumentException("the slices of " + id + " must cover its outputs in order, "
                            + "without gaps or overlaps; " + slice + " starts at " + slice.start() + ", not " + next);
                }
                next = slice.end();
            }
            if (!slices.isEmpty() && next != out) {
                throw new IllegalArgumentException("the slices of " + id + " must cover its " + out + " outputs; they end at "
                        + next);
            }
            return new LinearSite(this);
        }
    }
}
