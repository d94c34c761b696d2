package org.peft4j.backbone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.Intermediates;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.backbone.convnext.ConvNext;

/** forwardIntermediates returns the outputs of exactly the asked blocks, from the same pass as its logits. */
class IntermediatesTest {

    private static final BackboneRegistry REGISTRY = BackboneRegistry.load();

    /** Attaches a probe that records what enters a site (its input) in each pass. */
    private static Map<String, NDArray> probeInputs(Backbone model, String... ids) {
        Map<String, NDArray> seen = new HashMap<>();
        for (String id : ids) {
            model.site(id).orElseThrow().attach(new AdapterBlock("probe") {
                @Override
                protected NDArray adapt(ParameterStore s, NDArray input, NDArray output, boolean training) {
                    seen.put(id, input);
                    return output;
                }
            });
        }
        return seen;
    }

    private static float maxDiff(NDArray a, NDArray b) {
        return a.reshape(-1).sub(b.reshape(-1)).abs().max().getFloat();
    }

    /** Block 0's output is what enters the next block's first site; the last block's is what enters the final norm. */
    @ParameterizedTest
    @CsvSource({"vit_micro_patch4_32, blocks.1, norm", "swin_micro_patch4_window4_32, layers.0.blocks.1.norm1, norm"})
    void recordedOutputsAreWhatTheNextLayerReads(String name, String afterFirst, String afterLast) {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            Backbone model = REGISTRY.build(BackboneOptions.of(name, 5), m);
            ParameterStore store = new ParameterStore(m, false);
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            Map<String, NDArray> seen = probeInputs(model, afterFirst, afterLast);
            int last = model.depth() - 1;
            Intermediates out = model.forwardIntermediates(store, x, false, Set.of(0, last));
            assertThat(out.blocks().keySet()).containsExactly(0, last);
            assertThat(maxDiff(out.block(0), seen.get(afterFirst))).isZero();
            assertThat(maxDiff(out.block(last), seen.get(afterLast))).isZero();
            NDArray plain = model.block().forward(store, new NDList(x), false).singletonOrThrow();
            assertThat(maxDiff(out.logits(), plain)).isZero();
            assertThatThrownBy(() -> out.block(1)).hasMessageContaining("not recorded");
            assertThatThrownBy(() -> model.forwardIntermediates(store, x, false, Set.of(last + 1)))
                    .hasMessageContaining("outside 0.." + last);
        }
    }

    @Test
    void convNextsLastBlockOutputIsTheFeatureMap() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            ConvNext model = (ConvNext) REGISTRY.build(BackboneOptions.of("convnext_micro", 5), m);
            ParameterStore store = new ParameterStore(m, false);
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            int last = model.depth() - 1;
            Intermediates out = model.forwardIntermediates(store, x, false, Set.of(last));
            assertThat(maxDiff(out.block(last), model.featureMap(store, x, false))).isZero();
            assertThat(out.blocks()).hasSize(1);
        }
    }
}
