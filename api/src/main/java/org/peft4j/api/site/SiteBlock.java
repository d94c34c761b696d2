package org.peft4j.api.site;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.ModuleBlock;

/**
 * The bookkeeping every site shares: the adapter list, running adapters after the frozen op, and a safe
 * merge (compute into copies, check finite, swap in; unmerge restores the exact originals).
 */
public abstract class SiteBlock extends ModuleBlock implements AdapterSite {

    private final String id;
    private final SiteKind kind;
    private final int depth;
    private final List<Adapter> adapters = new ArrayList<>();
    /** What forward runs: the attached adapters, or their inference forms while merged. */
    private List<Adapter> active = List.of();
    /** Whether an active adapter adapts one output slice (then forward splits the output). */
    private boolean slicedAdapters;
    private MergeState mergeState;

    protected SiteBlock(String id, SiteKind kind, int depth) {
        this.id = Objects.requireNonNull(id);
        this.kind = Objects.requireNonNull(kind);
        this.depth = depth;
    }

    @Override
    public final String id() {
        return id;
    }

    @Override
    public final SiteKind kind() {
        return kind;
    }

    @Override
    public final int depth() {
        return depth;
    }

    @Override
    public List<OutputSlice> slices() {
        return List.of();
    }

    @Override
    public Optional<Parameter> weight() {
        return Optional.empty();
    }

    @Override
    public Optional<Parameter> bias() {
        return Optional.empty();
    }

    @Override
    public final void attach(Adapter adapter) {
        requireUnmerged("attach " + adapter.name());
        for (Adapter existing : adapters) {
            if (existing.name().equals(adapter.name())) {
                throw new PeftException(
                        "site " + id + " already has an adapter named '" + adapter.name() + "'");
            }
        }
        if (adapter.slice() != null) {
            sliceIndex(adapter); // a slice this site lacks is named now, not at the first forward pass
        }
        adapters.add(adapter);
        addLateChild(childName(adapter), adapter);
        activate(adapters);
    }

    @Override
    public final void detach(Adapter adapter) {
        requireUnmerged("detach " + adapter.name());
        if (adapters.remove(adapter)) {
            removeLateChild(childName(adapter));
            activate(adapters);
        }
    }

    @Override
    public final List<Adapter> adapters() {
        return Collections.unmodifiableList(adapters);
    }

    @Override
    public final boolean isMerged() {
        return mergeState != null;
    }

    @Override
    public final void merge() {
        if (mergeState != null) {
            throw new PeftException("site " + id + " is already merged; unmerge it first");
        }
        List<Adapter> folding = adapters.stream().filter(Adapter::foldable).toList();
        SavedWeights saved = folding.isEmpty() ? null : foldIntoWeights(folding);
        List<Adapter> inference = new ArrayList<>();
        for (Adapter adapter : adapters) {
            if (!adapter.foldable()) {
                inference.add(adapter.inferenceForm());
            }
        }
        mergeState = new MergeState(saved, inference);
        activate(inference);
    }

    @Override
    public final void unmerge() {
        if (mergeState == null) {
            return;
        }
        if (mergeState.saved != null) {
            restore(weight().orElseThrow(), mergeState.saved.weight);
            bias().ifPresent(b -> restore(b, mergeState.saved.bias));
        }
        for (Adapter form : mergeState.inference) {
            if (!adapters.contains(form)) {
                form.clear(); // the site owns inference forms built at merge time
            }
        }
        mergeState = null;
        activate(adapters);
    }

    private void activate(List<Adapter> running) {
        active = List.copyOf(running);
        slicedAdapters = active.stream().anyMatch(adapter -> adapter.slice() != null);
    }

    /** Runs the active adapters over the frozen op's output; adapters of a slice see only that slice. */
    protected final NDArray runAdapters(
            ParameterStore store, NDArray input, NDArray output, boolean training) {
        if (!slicedAdapters) {
            NDArray out = output;
            for (Adapter adapter : active) {
                out = run(adapter, store, input, out, training);
            }
            return out;
        }
        return join(runAdaptersOnSlices(store, input, output, training));
    }

    /**
     * Runs the active adapters over the frozen op's output split into the site's {@link #slices()} (which cover
     * the features in order) and returns the pieces. A slice's adapters get and return that slice only, so
     * nothing is written in place (whose backward copies the whole output per adapter) or joined in between.
     */
    protected final NDList runAdaptersOnSlices(
            ParameterStore store, NDArray input, NDArray output, boolean training) {
        NDArray whole = output;
        NDList pieces = null;
        for (Adapter adapter : active) {
            OutputSlice slice = adapter.slice();
            if (slice == null) {
                whole = run(adapter, store, input, pieces == null ? whole : join(pieces), training);
                pieces = null;
            } else {
                // looked up before splitting: a site without slices has no edges to split at
                int i = sliceIndex(adapter);
                if (pieces == null) {
                    pieces = split(whole);
                }
                pieces.set(i, run(adapter, store, input, pieces.get(i), training));
            }
        }
        return pieces == null ? split(whole) : pieces;
    }

    /** The index of {@code adapter}'s slice among the site's {@link #slices()}; a slice the site lacks is an error. */
    private int sliceIndex(Adapter adapter) {
        int i = slices().indexOf(adapter.slice());
        if (i < 0) {
            throw new PeftException("adapter " + adapter.name() + " adapts slice " + adapter.slice() + ", which site " + id
                    + " does not have (its slices: " + slices() + ")");
        }
        return i;
    }

    private static NDArray run(Adapter adapter, ParameterStore store, NDArray input, NDArray output, boolean training) {
        return adapter.forward(store, new NDList(input, output), training, null).singletonOrThrow();
    }

    /** Views of the features of each slice. */
    private NDList split(NDArray output) {
        List<OutputSlice> slices = slices();
        long[] edges = new long[slices.size() - 1];
        for (int i = 1; i < slices.size(); i++) {
            edges[i - 1] = slices.get(i).start();
        }
        return output.split(edges, output.getShape().dimension() - 1);
    }

    private static NDArray join(NDList pieces) {
        return NDArrays.concat(pieces, pieces.head().getShape().dimension() - 1);
    }

    private SavedWeights foldIntoWeights(List<Adapter> folding) {
        Parameter weight =
                weight().orElseThrow(
                        () ->
                                new PeftException(
                                        "site " + id + " (" + kind + ") has no weights to merge into"));
        Parameter bias = bias().orElse(null);
        NDArray w = weight.getArray();
        // Not w.getManager(): during a step or an evaluation batch the weights are borrowed by a short-lived
        // scope, and the saved originals must outlive it.
        NDManager home = parameterManager() != null ? parameterManager() : w.getManager();
        try (NDManager scope = home.newSubManager()) {
            // Borrow every array the fold reads so that its temporaries land in (and die with) the scope.
            List<NDArray> borrowed = new ArrayList<>();
            borrowed.add(w);
            if (bias != null) {
                borrowed.add(bias.getArray());
            }
            for (Adapter adapter : folding) {
                adapter.getParameters().values().stream()
                        .filter(Parameter::isInitialized)
                        .forEach(p -> borrowed.add(p.getArray()));
            }
            scope.tempAttachAll(borrowed.toArray(new NDArray[0]));

            SiteWeights current = new SiteWeights(w, bias == null ? null : bias.getArray());
            for (Adapter adapter : folding) {
                current = adapter.fold(current);
            }
            requireFinite(current.weight(), "weight");
            if (current.bias() != null) {
                requireFinite(current.bias(), "bias");
            }
            if (bias == null && current.bias() != null && !isZero(current.bias())) {
                throw new PeftException(
                        "site " + id + " has no bias, but merging its adapters needs one");
            }
            NDArray savedWeight = w.duplicate();
            savedWeight.attach(home);
            NDArray savedBias = null;
            if (bias != null) {
                savedBias = bias.getArray().duplicate();
                savedBias.attach(home);
            }
            // folded in the adapters' fp32, stored back in the site's own type (fp16 under half precision)
            NDArray newWeight = current.weight() == w ? w.duplicate() : current.weight().toType(w.getDataType(), false);
            newWeight.attach(home);
            swap(weight, newWeight);
            if (bias != null && current.bias() != null) {
                NDArray newBias =
                        current.bias() == bias.getArray()
                                ? bias.getArray().duplicate()
                                : current.bias().toType(bias.getArray().getDataType(), false);
                newBias.attach(home);
                swap(bias, newBias);
            }
            return new SavedWeights(savedWeight, savedBias);
        }
    }

    private static boolean isZero(NDArray array) {
        return array.abs().max().getFloat() == 0f;
    }

    private void requireFinite(NDArray array, String what) {
        if (array.isNaN().any().getBoolean() || array.isInfinite().any().getBoolean()) {
            throw new PeftException(
                    "merging the adapters of site " + id + " gives a non-finite " + what + "; not merged");
        }
    }

    /** Replaces the parameter's tensor in place (the Parameter and its NDArray object stay the same). */
    private static void swap(Parameter parameter, NDArray replacement) {
        NDArray target = parameter.getArray();
        target.intern(replacement);
        if (parameter.requiresGradient()) {
            target.setRequiresGradient(true);
        }
    }

    private static void restore(Parameter parameter, NDArray original) {
        swap(parameter, original);
    }

    private void requireUnmerged(String action) {
        if (mergeState != null) {
            throw new PeftException("cannot " + action + " on merged site " + id + "; unmerge first");
        }
    }

    private static String childName(Adapter adapter) {
        return "adapter_" + adapter.name();
    }

    private record SavedWeights(NDArray weight, NDArray bias) {}

    private record MergeState(SavedWeights saved, List<Adapter> inference) {}
}
