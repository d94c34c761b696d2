package org.peft4j.api.site;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftException;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.testing.SiteHarness;

/**
 * A LINEAR site with output slices hands each slice adapter only its slice's features and joins them again: values,
 * order against whole-output adapters, gradients, {@link LinearSite#forwardSlices} and the tiling rule.
 */
class SiteSlicesTest {

    /** {@code output + x D^T} on its slice, written the way the contract says: it sees only the slice. */
    static final class SliceDelta extends AdapterBlock {
        final Parameter delta;
        final OutputSlice slice;

        SliceDelta(String name, int in, OutputSlice slice) {
            super(name);
            this.slice = slice;
            delta = param("delta", new Shape(slice.size(), in), Initializers.normal(0.5));
        }

        @Override
        public OutputSlice slice() {
            return slice;
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            assertThat(output.getShape().get(output.getShape().dimension() - 1)).isEqualTo(slice.size());
            return output.add(input.matMul(value(store, delta, input, training).transpose()));
        }
    }

    /** Doubles the whole output: not additive, so it shows which slice adapters ran before it. */
    static final class Doubling extends AdapterBlock {
        Doubling() {
            super("double");
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            return output.mul(2);
        }
    }

    @Test
    void sliceAdaptersChangeOnlyTheirSliceAndRunInAttachOrderWithWholeOutputAdapters() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 3)) {
            NDArray x = h.randomInput(2, 3);
            NDArray frozen = h.forward(x, false);
            SliceDelta dq = h.attach(new SliceDelta("dq", 4, h.site().slice("q")));
            h.attach(new Doubling());
            SliceDelta dv = h.attach(new SliceDelta("dv", 4, h.site().slice("v")));
            NDArray y = h.forward(x, false);

            NDArray q = frozen.get("..., 0:4").add(x.matMul(dq.delta.getArray().transpose())).mul(2);
            NDArray k = frozen.get("..., 4:8").mul(2);
            NDArray v = frozen.get("..., 8:12").mul(2).add(x.matMul(dv.delta.getArray().transpose()));
            NDArray expected = q.concat(k, -1).concat(v, -1);
            assertThat(y.getShape()).isEqualTo(new Shape(2, 3, 12));
            assertThat(y.sub(expected).abs().max().getFloat()).isLessThan(1e-5f);

            NDList pieces = ((LinearSite) h.site()).forwardSlices(new ParameterStore(h.manager(), false), x, false);
            assertThat(pieces).hasSize(3);
            for (int i = 0; i < 3; i++) {
                NDArray expectedPiece = expected.get("..., " + 4 * i + ":" + 4 * (i + 1));
                assertThat(pieces.get(i).sub(expectedPiece).abs().max().getFloat()).isLessThan(1e-5f);
            }
        }
    }

    @Test
    void gradientsReachEachSliceAdapterFromItsOwnSliceOnly() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 5)) {
            SliceDelta dq = h.attach(new SliceDelta("dq", 4, h.site().slice("q")));
            SliceDelta dv = h.attach(new SliceDelta("dv", 4, h.site().slice("v")));
            NDArray x = h.randomInput(2, 3);
            NDArray weights = h.manager().randomNormal(new Shape(2, 3, 12)); // loss = sum(weights * y)
            Map<String, NDArray> grads = h.gradients(x, y -> y.mul(weights).sum());

            // d loss / d D = (weights on the slice)^T x, summed over the leading dimensions
            NDArray flatX = x.reshape(6, 4);
            NDArray expectedQ = weights.get("..., 0:4").reshape(6, 4).transpose().matMul(flatX);
            NDArray expectedV = weights.get("..., 8:12").reshape(6, 4).transpose().matMul(flatX);
            assertThat(grads.get("dq.delta").sub(expectedQ).abs().max().getFloat()).isLessThan(1e-4f);
            assertThat(grads.get("dv.delta").sub(expectedV).abs().max().getFloat()).isLessThan(1e-4f);
            assertThat(dq.delta.getArray().getShape()).isEqualTo(new Shape(4, 4));
            assertThat(dv.delta.getArray().getShape()).isEqualTo(new Shape(4, 4));
        }
    }

    @Test
    void anAdapterOfASliceTheSiteDoesNotHaveIsNamedWhenAttached() {
        try (SiteHarness h = SiteHarness.linear(4, 12, SiteHarness.qkvSlices(4), 1)) {
            assertThatThrownBy(() -> h.attach(new SliceDelta("dx", 4, new OutputSlice("x", 0, 4))))
                    .isInstanceOf(PeftException.class)
                    .hasMessageContaining("adapter dx adapts slice OutputSlice[name=x")
                    .hasMessageContaining("site blocks.0.attn.qkv");
        }
        try (SiteHarness h = SiteHarness.linear(4, 12, List.of(), 1)) {
            assertThatThrownBy(() -> h.attach(new SliceDelta("dq", 4, new OutputSlice("q", 0, 4))))
                    .isInstanceOf(PeftException.class)
                    .hasMessageContaining("adapter dq adapts slice OutputSlice[name=q")
                    .hasMessageContaining("(its slices: [])");
        }
    }

    @Test
    void slicesMustCoverTheOutputsInOrder() {
        assertThatThrownBy(() -> LinearSite.builder().setId("s").setFeatures(4, 6)
                .optSlices(List.of(new OutputSlice("a", 0, 2), new OutputSlice("b", 3, 6))).build())
                .hasMessageContaining("the slices of s must cover its outputs in order")
                .hasMessageContaining("starts at 3, not 2");
        assertThatThrownBy(() -> LinearSite.builder().setId("s").setFeatures(4, 6)
                .optSlices(List.of(new OutputSlice("a", 0, 2), new OutputSlice("b", 2, 5))).build())
                .hasMessageContaining("must cover its 6 outputs; they end at 5");
    }
}
