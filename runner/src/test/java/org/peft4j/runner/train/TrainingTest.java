package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;
import org.peft4j.api.Precision;
import org.peft4j.api.io.Safetensors;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TaskData;
import org.peft4j.runner.ExperimentRunner;
import org.peft4j.runner.TestData;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.registry.PluginJars;
import org.peft4j.runner.results.RunDirectory;

class TrainingTest {

    @TempDir static Path data;
    @TempDir Path out;
    static MethodRegistry methods;

    @BeforeAll
    static void makeData() throws Exception {
        TestData.miniVtab(data, 12, 4);
        methods = MethodRegistry.discover(data.resolve("no-plugins"));
    }

    /** Builds the experiment's model and data without running it. */
    private static final class Setup implements AutoCloseable {
        final NDManager manager = NDManager.newBaseManager();
        final PeftModel model;
        final ImageSet train;
        final ImageSet test;
        final Experiment experiment;

        Setup(Experiment e) {
            experiment = e;
            SplitList[] splits = DatasetLayouts.splits(e.data());
            model = new ModelFactory(BackboneRegistry.load()).assemble(e, methods, splits[0].numClasses(), 7, manager,
                    new PrintWriter(new StringWriter()));
            ImageSet[] images = TaskData.images(splits, e.data(), model.backbone().dataConfig());
            train = images[0];
            test = images[1];
        }

        Trainer trainer(List<EpochStats> seen, List<Integer> arrayCounts) {
            return new Trainer(model, experiment.train(), experiment.data().batchSize(), 64, 7, new StepObserver() {}, stats -> {
                seen.add(stats);
                arrayCounts.add(manager.getManagedArrays().size());
            });
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    private Experiment experiment(String hocon) {
        return TestData.experiment(methods, data, out, hocon);
    }

    private static Map<String, NDArray> snapshot(Map<String, Parameter> params) {
        Map<String, NDArray> copy = new HashMap<>();
        params.forEach((k, p) -> copy.put(k, p.getArray().duplicate()));
        return copy;
    }

    @Test
    void frozenParametersDoNotMoveAdaptersAndHeadDoAndTheLossFalls() {
        try (Setup s = new Setup(experiment("method { id = lora }\ntrain { epochs = 2, lr = 5e-3 }"))) {
            Map<String, NDArray> before = snapshot(s.model.parameters());
            double lossBefore = Evaluator.evaluate(s.model, s.train, 64).loss();
            s.trainer(new ArrayList<>(), new ArrayList<>()).fit(s.train, null, Trainer.basePlan(s.experiment.train()));
            double lossAfter = Evaluator.evaluate(s.model, s.train, 64).loss();

            List<String> moved = new ArrayList<>();
            s.model.parameters().forEach((k, p) -> {
                if (!p.getArray().contentEquals(before.get(k))) {
                    moved.add(k);
                }
            });
            assertThat(moved).isNotEmpty().allMatch(k -> k.contains(".lora_") || k.startsWith("head."));
            assertThat(moved).contains("head.weight", "blocks.0.attn.qkv.lora_q.lora_B", "blocks.3.attn.qkv.lora_v.lora_A");
            assertThat(lossAfter).as("train loss after vs before").isLessThan(lossBefore - 0.05);
        }
    }

    @Test
    void mergedViTEqualsUnmergedAfterTraining() {
        try (Setup s = new Setup(experiment("method { id = lora, targets = [\"attn.qkv:q\", \"attn.qkv:v\", mlp.fc1, attn.proj] }"))) {
            s.trainer(new ArrayList<>(), new ArrayList<>()).fit(s.train, null, Trainer.basePlan(s.experiment.train()));
            try (NDManager scope = s.manager.newSubManager()) {
                NDArray x = s.test.batch(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, false, new Random(0), scope).get(0);
                NDArray unmerged = s.model.logits(x, false);
                s.model.merge();
                NDArray merged = s.model.logits(x, false);
                s.model.unmerge();
                assertThat(unmerged.sub(merged).abs().max().getFloat()).isLessThanOrEqualTo(1e-5f);
                assertThat(unmerged.sub(s.model.logits(x, false)).abs().max().getFloat()).isZero();
            }
        }
    }

    @Test
    void halfPrecisionTrainsFp32AdaptersOverAnFp16BackboneAndMergesBackExactly() {
        try (Setup s = new Setup(experiment("method { id = lora }\ntrain { epochs = 2, lr = 5e-3 }\ncompute { precision = fp16 }"))) {
            assertThat(s.model.precision()).isEqualTo(Precision.FP16);
            Map<String, NDArray> before = snapshot(s.model.parameters());
            s.model.parameters().forEach((k, p) -> assertThat(p.getArray().getDataType()).as(k)
                    .isEqualTo(k.contains(".lora_") || k.startsWith("head.") ? DataType.FLOAT32 : DataType.FLOAT16));
            double lossBefore = Evaluator.evaluate(s.model, s.train, 64).loss();
            List<EpochStats> seen = new ArrayList<>();
            s.trainer(seen, new ArrayList<>()).fit(s.train, null, Trainer.basePlan(s.experiment.train()));
            assertThat(Evaluator.evaluate(s.model, s.train, 64).loss()).isLessThan(lossBefore - 0.05);

            List<String> moved = new ArrayList<>();
            s.model.parameters().forEach((k, p) -> {
                if (!p.getArray().contentEquals(before.get(k))) {
                    moved.add(k);
                }
            });
            assertThat(moved).contains("head.weight", "blocks.0.attn.qkv.lora_q.lora_B").allMatch(k -> k.contains(".lora_") || k.startsWith("head."));
            try (NDManager scope = s.manager.newSubManager()) {
                NDArray x = s.test.batch(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, false, new Random(0), scope).get(0);
                NDArray unmerged = s.model.logits(x, false);
                assertThat(unmerged.getDataType()).isEqualTo(DataType.FLOAT32);
                s.model.merge();
                // folded in fp32, stored in fp16: the merged weight is rounded once
                assertThat(s.model.parameters().get("blocks.0.attn.qkv.weight").getArray().getDataType()).isEqualTo(DataType.FLOAT16);
                NDArray merged = s.model.logits(x, false);
                s.model.unmerge();
                assertThat(unmerged.sub(merged).abs().max().getFloat() / unmerged.abs().max().getFloat()).isLessThanOrEqualTo(5e-3f);
                assertThat(unmerged.sub(s.model.logits(x, false)).abs().max().getFloat()).isZero();
            }
        }
    }

    @Test
    void nativeMemoryStaysFlatOverEpochs() {
        try (Setup s = new Setup(experiment("method { id = lora }\ntrain { epochs = 4, eval-every = 1 }"))) {
            List<Integer> counts = new ArrayList<>();
            s.trainer(new ArrayList<>(), counts).fit(s.train, s.test, Trainer.basePlan(s.experiment.train()));
            assertThat(counts).hasSize(4);
            assertThat(counts.get(3)).as("arrays alive after epoch 4 vs epoch 1: %s", counts).isEqualTo(counts.get(0));
        }
    }

    @Test
    void sameSeedSameResult() {
        double[] losses = new double[2];
        for (int i = 0; i < 2; i++) {
            try (Setup s = new Setup(experiment("method { id = lora, dropout = 0.1 }"))) {
                List<EpochStats> seen = new ArrayList<>();
                s.trainer(seen, new ArrayList<>()).fit(s.train, null, Trainer.basePlan(s.experiment.train()));
                losses[i] = seen.get(0).loss();
            }
        }
        assertThat(losses[1]).isEqualTo(losses[0]);
    }

    @Test
    void adamWMatchesTheFormulaOnOneStep() {
        try (NDManager m = NDManager.newBaseManager()) {
            Parameter p = Parameter.builder().setName("w").optShape(new ai.djl.ndarray.types.Shape(2, 2))
                    .optInitializer((mm, shape, type) -> mm.create(new float[] {1, -2, 3, 4}, shape)).build();
            p.initialize(m, ai.djl.ndarray.types.DataType.FLOAT32);
            AdamW opt = new AdamW(Map.of("w", p), 0.1, 0.9, 0.999, 1e-8, 0);
            try (ai.djl.training.GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(p.getArray().square().sum()); // grad = 2w
            }
            opt.step(0.01);
            // step 1: m_hat = g, v_hat = g^2 -> update = lr * sign(g); decay: w *= 1 - lr*wd
            float[] w = p.getArray().toFloatArray();
            float[] start = {1, -2, 3, 4};
            for (int i = 0; i < 4; i++) {
                float expected = (float) (start[i] * (1 - 0.01 * 0.1) - 0.01 * Math.signum(start[i]));
                assertThat(w[i]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-6f));
            }
            assertThat(p.getArray().getGradient().abs().sum().getFloat()).isZero();
        }
    }

    @Test
    void aNanLossStopsWithTheStepAndKeepsTheLastGoodCheckpoint() throws Exception {
        Path plugins = PluginJars.build(data.resolve("nanplugin"), "nan", "org.example.nan.NanMethod",
                new String(getClass().getResourceAsStream("/plugin/NanMethod.java.txt").readAllBytes(), StandardCharsets.UTF_8),
                "peft4j.methods.nan-after {\n  # step at which the loss becomes NaN\n  step = 10\n}\n");
        MethodRegistry withNan = MethodRegistry.discover(plugins);
        // 120 images / batch 16 = 8 steps per epoch: epoch 1 completes, step 10 is in epoch 2
        Experiment e = TestData.experiment(withNan, data, out, "method { id = nan-after }\ntrain { epochs = 3 }");
        StringWriter buffer = new StringWriter();
        assertThatThrownBy(() -> new ExperimentRunner(BackboneRegistry.load()).run(e, withNan, new PrintWriter(buffer, true)))
                .isInstanceOf(PeftException.class)
                .hasMessageContaining("at step 10")
                .hasMessageContaining("epoch 2")
                .hasMessageContaining("last good checkpoint (epoch 1)");
        Path dir = out.resolve("test/mini/nan-after/default/final/seed-42");
        assertThat(Files.readString(dir.resolve(RunDirectory.METRICS))).contains("\"status\": \"failed\"").contains("step 10");
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> saved = Safetensors.read(dir.resolve(RunDirectory.ADAPTER), m);
            assertThat(saved.keySet()).containsExactlyInAnyOrder("head.weight", "head.bias");
            assertThat(saved.values()).allMatch(a -> !a.isNaN().any().getBoolean());
        }
    }

    @Test
    void aRunWritesConfigMetricsAdapterAndLog() throws Exception {
        Experiment e = experiment("method { id = lora }\ntrain { epochs = 1 }");
        StringWriter buffer = new StringWriter();
        var results = new ExperimentRunner(BackboneRegistry.load()).run(e, methods, new PrintWriter(buffer, true));
        Path dir = results.get(0).directory().path();
        assertThat(dir).isEqualTo(out.resolve("test/mini/lora/default/final/seed-42"));
        String metrics = Files.readString(dir.resolve(RunDirectory.METRICS));
        com.typesafe.config.Config json = com.typesafe.config.ConfigFactory.parseString(metrics);
        assertThat(json.getString("status")).isEqualTo("ok");
        assertThat(json.getLong("trainable_params")).isEqualTo(4L * 2 * (8 * 64 + 64 * 8)); // 4 blocks x (q, v) x (A + B)
        assertThat(json.getDouble("accuracy")).isBetween(0.0, 1.0);
        // Appendix A.4's expert similarity, for LoRA's rank-1 components (column of B times row of A)
        assertThat(json.getDouble("analysis.expert_similarity.model")).isBetween(-1.0, 1.0);
        assertThat(json.getConfig("analysis.expert_similarity.blocks").root()).hasSize(4);
        assertThat(Files.readString(dir.resolve(RunDirectory.CONFIG))).contains("rank=8");
        assertThat(Files.readString(dir.resolve(RunDirectory.LOG))).contains("epoch 1");
        try (NDManager m = NDManager.newBaseManager()) {
            assertThat(Safetensors.read(dir.resolve(RunDirectory.ADAPTER), m).keySet())
                    .hasSize(4 * 2 * 2 + 2).allMatch(k -> k.contains(".lora_") || k.startsWith("head."));
        }
        assertThat(buffer.toString()).contains("test accuracy");
    }
}
