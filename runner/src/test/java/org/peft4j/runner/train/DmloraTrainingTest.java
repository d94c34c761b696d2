package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.io.Safetensors;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.methods.dmlora.DmloraTuner;
import org.peft4j.methods.dmlora.MixLoraAdapter;
import org.peft4j.runner.ExperimentRunner;
import org.peft4j.runner.TestData;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TaskData;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.RunDirectory;

/** DMLoRA through the runner's own trainer and AdamW on a micro ViT: halvings, the optimiser state, stage 2. */
class DmloraTrainingTest {

    @TempDir static Path data;
    @TempDir Path out;
    static MethodRegistry methods;

    @BeforeAll
    static void makeData() throws Exception {
        TestData.miniVtab(data, 12, 4); // 120 images: 8 steps of 16 per epoch
        methods = MethodRegistry.discover(data.resolve("no-plugins"));
    }

    /** A model and its data; {@link #fit} trains the plan and calls {@code atEpochStart} after each optimiser sync. */
    private final class Run implements AutoCloseable {
        final NDManager manager = NDManager.newBaseManager();
        final Experiment experiment;
        final PeftModel model;
        final ImageSet train;
        final ImageSet test;

        Run(String method, String train) {
            this(method, train, "");
        }

        /** {@code extra}: more HOCON at the top level (e.g. a compute block). */
        Run(String method, String train, String extra) {
            experiment = TestData.experiment(methods, data, out, "method { id = dmlora, " + method + " }\ntrain { " + train
                    + " }\n" + extra);
            SplitList[] splits = DatasetLayouts.splits(experiment.data());
            model = new ModelFactory(BackboneRegistry.load()).assemble(experiment, methods, splits[0].numClasses(), 7,
                    manager, new PrintWriter(new StringWriter()));
            ImageSet[] images = TaskData.images(splits, experiment.data(), model.backbone().dataConfig());
            this.train = images[0];
            this.test = images[1];
        }

        DmloraTuner tuner() {
            return (DmloraTuner) model.tuner();
        }

        void fit(BiConsumer<String, AdamW> atEpochStart) {
            fit(atEpochStart, stats -> {});
        }

        void fit(BiConsumer<String, AdamW> atEpochStart, Trainer.EpochSink sink) {
            Trainer[] trainer = new Trainer[1];
            trainer[0] = new Trainer(model, experiment.train(), 16, 64, 7, new StepObserver() {
                @Override
                public void epochStarted(String stage, int epoch, int epochs, int steps) {
                    atEpochStart.accept(stage + " " + epoch, trainer[0].optimizer());
                }
            }, sink);
            trainer[0].fit(train, test, model.tuner().plan(Trainer.basePlan(experiment.train())));
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    private static Map<String, Parameter> branches(PeftModel model) {
        return model.parameters().entrySet().stream().filter(e -> e.getKey().contains(".lora_"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    }

    @Test
    void droppedBranchesLeaveTheModelAndTheOptimiserWithTheirStateWhileSurvivorsKeepTheirs() {
        try (Run run = new Run("branches = 4, drop-every = 1, scale-stage = false", "epochs = 4, lr = 3e-3")) {
            int[] live = {4, 2, 1, 1};
            Map<String, Parameter> previous = new HashMap<>();
            Map<String, Long> previousSteps = new HashMap<>();
            Map<Parameter, NDArray> tensors = new HashMap<>();
            List<String> checked = new ArrayList<>();
            run.fit((when, optimizer) -> {
                int epoch = Integer.parseInt(when.substring(when.indexOf(' ') + 1));
                Map<String, Parameter> now = branches(run.model);
                for (MixLoraAdapter a : run.tuner().adapterList()) {
                    assertThat(a.liveDown()).as(when).isEqualTo(live[epoch]);
                    assertThat(a.liveUp()).as(when).isEqualTo(live[epoch]);
                }
                assertThat(now).hasSize(8 * 2 * live[epoch]); // 4 blocks x (q, v) x (A + B)
                Set<String> inOptimiser = optimizer.names().stream().filter(n -> n.contains(".lora_")).collect(Collectors.toSet());
                assertThat(inOptimiser).as(when).isEqualTo(now.keySet());
                assertThat(optimizer.size()).isEqualTo(now.size() + 2); // + head weight and bias
                assertThat(optimizer.state()).hasSize(2 * optimizer.size());
                long survivorSteps = 0;
                for (Map.Entry<String, Parameter> e : previous.entrySet()) {
                    String name = e.getKey();
                    Parameter p = e.getValue();
                    if (now.get(name) == p) {
                        // a survivor keeps its state: its step count (steps it was routed) goes on from where it was
                        assertThat(optimizer.steps(name)).as(when + " survivor " + name)
                                .isGreaterThanOrEqualTo(previousSteps.get(name));
                        survivorSteps += optimizer.steps(name);
                    } else {
                        assertThat(now).as(when).doesNotContainKey(name);
                        assertThat(tensors.get(p).isReleased()).as(when + " dropped " + name + " is freed").isTrue();
                        assertThat(p.isInitialized()).isFalse();
                    }
                }
                if (epoch > 0) {
                    assertThat(survivorSteps).as(when + ": survivors' step counts carry on").isPositive();
                }
                previous.clear();
                previous.putAll(now);
                previousSteps.clear();
                now.keySet().forEach(name -> previousSteps.put(name, optimizer.steps(name)));
                now.values().forEach(p -> tensors.put(p, p.getArray()));
                checked.add(when);
            });
            assertThat(checked).containsExactly("main 0", "main 1", "main 2", "main 3");
            assertThat(run.tuner().history()).extracting(DmloraTuner.LiveCount::down).containsExactly(4, 2, 1);
        }
    }

    @Test
    void resetSurvivorsStartFromZeroMoments() {
        try (Run run = new Run("branches = 2, drop-every = 1, scale-stage = false, survivor-moments = reset",
                "epochs = 2, lr = 3e-3")) {
            List<Long> steps = new ArrayList<>();
            run.fit((when, optimizer) -> {
                if (when.equals("main 1")) {
                    branches(run.model).keySet().forEach(name -> steps.add(optimizer.steps(name)));
                }
            });
            assertThat(steps).hasSize(16).containsOnly(0L);
        }
    }

    private static Map<String, NDArray> snapshot(PeftModel model) {
        Map<String, NDArray> copy = new HashMap<>();
        model.parameters().forEach((k, p) -> copy.put(k, p.getArray().duplicate()));
        return copy;
    }

    private static List<String> changedSince(PeftModel model, Map<String, NDArray> before) {
        List<String> changed = new ArrayList<>();
        model.parameters().forEach((k, p) -> {
            if (!before.containsKey(k) || !p.getArray().contentEquals(before.get(k))) {
                changed.add(k);
            }
        });
        return changed;
    }

    /** The learned scales, plus the head when it trains too. */
    private static List<String> stageTwoParameters(PeftModel model, boolean head) {
        List<String> keys = new ArrayList<>(model.parameters().keySet().stream()
                .filter(k -> k.endsWith("." + MixLoraAdapter.SCALE)).toList());
        if (head) {
            keys.addAll(List.of("head.weight", "head.bias"));
        }
        return keys;
    }

    @Test
    void theScaleStageChangesOnlyTheScalesOrAlsoTheHeadWhenAsked() {
        for (boolean head : new boolean[] {false, true}) {
            try (Run run = new Run("branches = 2, drop-every = 1, scale-epochs = 2, scale-train-head = " + head,
                    "epochs = 2, lr = 3e-3")) {
                Map<String, NDArray> atStageStart = new HashMap<>();
                run.fit((when, optimizer) -> {
                    if (when.equals(DmloraTuner.SCALE_STAGE + " 0")) {
                        atStageStart.putAll(snapshot(run.model));
                        assertThat(optimizer.names()).as("stage 2 optimises")
                                .containsExactlyInAnyOrderElementsOf(stageTwoParameters(run.model, head));
                    }
                });
                List<String> expected = stageTwoParameters(run.model, head);
                assertThat(expected).hasSize(head ? 10 : 8); // one scale per q and per v of 4 blocks
                assertThat(changedSince(run.model, atStageStart)).as("head %s", head)
                        .containsExactlyInAnyOrderElementsOf(expected);
            }
        }
    }

    /**
     * On eight test images: {max |unmerged - merged| logits, max |unmerged| logits, max |unmerged - unmerged after
     * merge and unmerge|}.
     */
    private static float[] mergedVsUnmerged(Run run) {
        try (NDManager scope = run.manager.newSubManager()) {
            NDArray x = run.test.batch(new int[] {0, 1, 2, 3, 4, 5, 6, 7}, false, new Random(0), scope).get(0);
            NDArray unmerged = run.model.logits(x, false);
            run.model.merge();
            NDArray merged = run.model.logits(x, false);
            run.model.unmerge();
            return new float[] {unmerged.sub(merged).abs().max().getFloat(), unmerged.abs().max().getFloat(),
                    run.model.logits(x, false).sub(unmerged).abs().max().getFloat()};
        }
    }

    @Test
    void afterTrainingTheMergedModelEqualsTheAveragedBranches() {
        try (Run run = new Run("branches = 4, drop-every = 1, scale-epochs = 1, scale-shape = vector, scale = 10",
                "epochs = 2, lr = 3e-3")) {
            run.fit((when, optimizer) -> {});
            for (MixLoraAdapter a : run.tuner().adapterList()) {
                assertThat(a.liveDown()).isEqualTo(2);
                assertThat(a.liveUp()).isEqualTo(2);
            }
            float[] diff = mergedVsUnmerged(run);
            System.out.printf("DMLoRA after training (2x2 branches, vector scales): max |merged - averaged| logits = %.3g%n",
                    diff[0]);
            assertThat(diff[0]).isLessThanOrEqualTo(1e-5f);
            assertThat(diff[2]).as("unmerging restores the exact weights").isZero();
        }
    }

    @Test
    void nativeMemoryStaysFlatOnceTheBranchesStopChanging() {
        // 4 -> 2 -> 1 branches over epochs 1-3, then 1x1 for epochs 3-5, then the scale stage; evaluation every epoch
        try (Run run = new Run("branches = 4, drop-every = 1, scale-epochs = 3", "epochs = 5, lr = 3e-3, eval-every = 1")) {
            List<Integer> counts = new ArrayList<>();
            run.fit((when, optimizer) -> {}, stats -> counts.add(run.manager.getManagedArrays().size()));
            assertThat(counts).hasSize(8);
            assertThat(counts.get(2)).as("arrays alive after each epoch: %s", counts).isLessThan(counts.get(0));
            assertThat(counts.get(4)).as("arrays alive after each epoch: %s", counts).isEqualTo(counts.get(2));
            assertThat(counts.get(7)).as("arrays alive after each epoch: %s", counts).isEqualTo(counts.get(5));
        }
    }

    @Test
    void halfPrecisionTrainsFp32BranchesAndScalesAndMergesBack() {
        try (Run run = new Run("branches = 2, drop-every = 1, scale-epochs = 1",
                "epochs = 2, lr = 3e-3", "compute { precision = fp16 }")) {
            run.fit((when, optimizer) -> {});
            run.model.parameters().forEach((k, p) -> assertThat(p.getArray().getDataType()).as(k).isEqualTo(
                    k.contains(".dmlora_") || k.startsWith("head.") ? DataType.FLOAT32 : DataType.FLOAT16));
            float[] diff = mergedVsUnmerged(run);
            assertThat(diff[1]).isFinite();
            // folded in fp32, stored in fp16: the merged weight is rounded once
            assertThat(diff[0] / diff[1]).isLessThanOrEqualTo(5e-3f);
        }
    }

    @Test
    void aRunSaysWhatThePresetPickedAndSavesBranchesAndScales() throws Exception {
        Experiment e = TestData.experiment(methods, data, out,
                "method { id = dmlora, branches = 2, scale-epochs = 1 }\ntrain { epochs = 1 }");
        StringWriter buffer = new StringWriter();
        var results = new ExperimentRunner(BackboneRegistry.load()).run(e, methods, new PrintWriter(buffer, true));
        String printed = buffer.toString();
        assertThat(printed).contains("dmlora: preset auto: dataset 'mini' is not a VTAB-1k task -> slow")
                .contains("dmlora: targets [attn.qkv:q, attn.qkv:v] (the paper's placement for vit_micro_patch4_32): 8 sites")
                .contains("scale stage: 1 epochs");
        assertThat(results.get(0).trainableParameters()).isEqualTo(8L * 8 * (64 + 64));
        Path dir = results.get(0).directory().path();
        try (NDManager m = NDManager.newBaseManager()) {
            Set<String> saved = Safetensors.read(dir.resolve(RunDirectory.ADAPTER), m).keySet();
            assertThat(saved).filteredOn(k -> k.contains(".lora_A_")).hasSize(16);
            assertThat(saved).filteredOn(k -> k.contains(".lora_B_")).hasSize(16);
            assertThat(saved).filteredOn(k -> k.endsWith(".scale")).hasSize(8);
            assertThat(saved).contains("head.weight", "head.bias", "blocks.0.attn.qkv.dmlora_q.lora_A_0");
        }
        assertThat(java.nio.file.Files.readString(dir.resolve(RunDirectory.METRICS))).contains("\"dmlora\"")
                .contains("\"method_notes\"");
    }
}
