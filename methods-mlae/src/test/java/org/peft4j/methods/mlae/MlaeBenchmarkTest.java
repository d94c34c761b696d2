package org.peft4j.methods.mlae;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.peft4j.api.StepContext;
import org.peft4j.api.nn.Initializers;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterBlock;
import org.peft4j.api.testing.SiteHarness;
import org.peft4j.api.testing.TestContexts;

/**
 * Times forward + backward of MLAE against the LoRA computation of the same rank on the whole output of a
 * ViT-B qkv (768 -> 2304) for a batch of 8 x 197 tokens, as whole sites (frozen linear + adapter) and as
 * adapters alone. Run with {@code -Pslow -Dtest=MlaeBenchmarkTest}; prints median milliseconds per step.
 */
@Tag("slow")
class MlaeBenchmarkTest {

    private static final int IN = 768;
    private static final int OUT = 2304;
    private static final int RANK = 8;
    private static final int WARMUP = 5;
    private static final int ROUNDS = 40;

    /** LoRA's forward as LoraAdapter computes it: x A^T B^T * (alpha / r) on the whole output. */
    private static final class LowRank extends AdapterBlock {
        private final Parameter a;
        private final Parameter b;
        private final float scale;

        LowRank(String name, float scale) {
            super(name);
            this.scale = scale;
            a = param("lora_A", new Shape(RANK, IN), Initializers.kaimingUniformSqrt5());
            b = param("lora_B", new Shape(OUT, RANK), Initializers.normal(0.02));
        }

        @Override
        protected NDArray adapt(ParameterStore store, NDArray input, NDArray output, boolean training) {
            NDArray delta = input.matMul(value(store, a, input, training).transpose())
                    .matMul(value(store, b, input, training).transpose());
            return output.add(scale == 1f ? delta : delta.mul(scale));
        }
    }

    private interface Step {
        NDArray run(NDArray x);
    }

    @Test
    void mlaeCostsNoMoreThanLoraOfTheSameRank() {
        try (SiteHarness h = SiteHarness.linear(IN, OUT, SiteHarness.qkvSlices(IN), 1)) {
            NDManager m = h.manager();
            ExpertMasks masks = new ExpertMasks(RANK, new int[] {RANK}, new double[] {0.5});
            MlaeSettings s = MlaeSettings.from(TestContexts.method("mlae", "rank = 8, dropout = 0.5", "test"));
            MlaeAdapter mlae = new MlaeAdapter("mlae", IN, OUT, null, 0, masks, s);
            LowRank lora = new LowRank("lora", 2f); // alpha / r = 16 / 8
            LowRank bare = new LowRank("bare", 1f);
            for (Adapter a : List.of(mlae, lora, bare)) {
                a.initialize(m, ai.djl.ndarray.types.DataType.FLOAT32);
            }
            mlae.b().getArray().intern(m.randomNormal(0f, 0.02f, mlae.b().getShape(), mlae.b().getArray().getDataType()));
            mlae.b().getArray().setRequiresGradient(true);
            ParameterStore store = new ParameterStore(m, false);
            NDArray x = m.randomNormal(new Shape(8, 197, IN));
            NDArray frozenOut = h.forward(x, false);
            Random random = new Random(1);
            long[] counter = {0};

            Map<String, Step> steps = new LinkedHashMap<>();
            for (Adapter adapter : List.of(mlae, lora, bare)) {
                steps.put("site " + adapter.name(), xi -> {
                    if (adapter == mlae) {
                        masks.draw(new StepContext("bench", 0, counter[0]++, random, m));
                    }
                    h.site().attach(adapter);
                    try {
                        return h.forward(xi, true);
                    } finally {
                        h.site().detach(adapter);
                    }
                });
                steps.put("adapter " + adapter.name(), xi -> {
                    if (adapter == mlae) {
                        masks.draw(new StepContext("bench", 0, counter[0]++, random, m));
                    }
                    return adapter.forward(store, new NDList(xi, frozenOut), true, null).singletonOrThrow();
                });
            }
            Map<String, double[]> times = new LinkedHashMap<>();
            steps.keySet().forEach(k -> times.put(k, new double[ROUNDS]));
            List<String> order = List.copyOf(steps.keySet());
            for (int round = -WARMUP; round < ROUNDS; round++) {
                for (int k = 0; k < order.size(); k++) {
                    String name = order.get((k + Math.max(round, 0)) % order.size()); // rotate to spread drift
                    try (NDManager scope = m.newSubManager()) {
                        scope.tempAttachAll(x, frozenOut);
                        long t0 = System.nanoTime();
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            gc.backward(steps.get(name).run(x).sum());
                        }
                        long t1 = System.nanoTime();
                        if (round >= 0) {
                            times.get(name)[round] = (t1 - t0) / 1e6;
                        }
                    }
                }
            }
            Map<String, Double> median = new LinkedHashMap<>();
            times.forEach((k, v) -> {
                double[] sorted = v.clone();
                Arrays.sort(sorted);
                median.put(k, sorted[ROUNDS / 2]);
            });
            median.forEach((k, v) -> System.out.printf("BENCH %-16s %8.2f ms (forward + backward, median of %d)%n", k, v, ROUNDS));
            double siteRatio = median.get("site mlae") / median.get("site lora");
            double adapterRatio = median.get("adapter mlae") / median.get("adapter lora");
            System.out.printf("BENCH ratio MLAE/LoRA: site %.3f, adapter only %.3f; vs unscaled low-rank: site %.3f, adapter %.3f%n",
                    siteRatio, adapterRatio, median.get("site mlae") / median.get("site bare"),
                    median.get("adapter mlae") / median.get("adapter bare"));
            // generous bound against a per-expert loop creeping back in (that costs several times more);
            // the target of 1.10 is reported, not asserted, because the machine's cores are shared
            assertThat(siteRatio).isLessThan(1.5);
        }
    }
}
