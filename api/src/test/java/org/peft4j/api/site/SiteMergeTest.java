package org.peft4j.api.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.testing.SiteHarness;

class SiteMergeTest {

    /** y + x D^T for the rows of one slice: the simplest foldable adapter. */
    static final class DeltaAdapter extends AdapterBlock {
        final Parameter delta;
        final OutputSlice slice;

        DeltaAdapter(String name, int in, OutputSlice slice) {
            super(name);
            this.slice = slice;
            delta = param("delta", new Shape(slice.size(), in), Initializers.normal(0.5));
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            NDArray d = input.matMul(value(store, delta, input, training).transpose());
            NDArray padded = d.getManager().zeros(output.getShape());
            // rebuild with concat so autograd flows
            NDArray left = output.get("..., :" + slice.start());
            NDArray mid = output.get("..., " + slice.start() + ":" + slice.end()).add(d);
            NDArray right = output.get("..., " + slice.end() + ":");
            padded.close();
            return left.concat(mid, -1).concat(right, -1);
        }

        @Override
        public boolean foldable() {
            return true;
        }

        @Override
        public SiteWeights fold(SiteWeights frozen) {
            NDArray w = frozen.weight();
            NDArray d = delta.getArray();
            NDArray merged = w.get(":" + slice.start())
                    .concat(w.get(slice.start() + ":" + slice.end()).add(d), 0)
                    .concat(w.get(slice.end() + ":"), 0);
            return new SiteWeights(merged, frozen.bias());
        }
    }

    @Test
    void foldedAdapterMatchesUnmergedAndUnmergeRestoresExactly() {
        try (SiteHarness h = SiteHarness.linear(6, 18, SiteHarness.qkvSlices(6), 7)) {
            NDArray original = h.site().weight().orElseThrow().getArray().duplicate();
            h.attach(new DeltaAdapter("dq", 6, h.site().slice("q")));
            h.attach(new DeltaAdapter("dv", 6, h.site().slice("v")));
            NDArray x = h.randomInput(3, 5);

            assertThat(h.maxMergeDifference(x)).isLessThanOrEqualTo(1e-5);
            NDArray restored = h.site().weight().orElseThrow().getArray();
            assertThat(restored.contentEquals(original)).isTrue();
            assertThat(h.site().isMerged()).isFalse();
        }
    }

    @Test
    void mergeTwiceIsRefusedAndAttachWhileMergedIsRefused() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 1)) {
            h.attach(new DeltaAdapter("dq", 4, h.site().slice("q")));
            h.site().merge();
            assertThatThrownBy(() -> h.site().merge()).isInstanceOf(PeftException.class).hasMessageContaining("already merged");
            assertThatThrownBy(() -> h.site().attach(new DeltaAdapter("dk", 4, h.site().slice("k"))))
                    .hasMessageContaining("unmerge first");
            h.site().unmerge();
        }
    }

    @Test
    void gradientsReachTheAdapterOnlyThroughItsSlice() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 3)) {
            h.attach(new DeltaAdapter("dv", 4, h.site().slice("v")));
            NDArray x = h.randomInput(2, 3);
            // loss reads only the k rows: the v adapter must get exactly zero gradient
            var grads = h.gradients(x, y -> y.get("..., 4:8").sum());
            assertThat(grads).hasSize(1);
            assertThat(grads.values().iterator().next().abs().sum().getFloat()).isZero();
            var gradsV = h.gradients(x, y -> y.get("..., 8:12").sum());
            assertThat(gradsV.values().iterator().next().abs().sum().getFloat()).isPositive();
        }
    }

    @Test
    void duplicateAdapterNamesAreRefused() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 1)) {
            h.attach(new DeltaAdapter("a", 4, h.site().slice("q")));
            assertThatThrownBy(() -> h.attach(new DeltaAdapter("a", 4, h.site().slice("k"))))
                    .hasMessageContaining("already has an adapter named 'a'");
        }
    }
}
