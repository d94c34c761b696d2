package org.peft4j.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.TestData;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TaskData;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.CheckpointFile;

/**
 * A run stopped anywhere (mid-epoch or right after an epoch's checkpoint) and started again ends with exactly the
 * parameters and history of an uninterrupted run: every random stream (data order, augmentation, masks, dropout,
 * drop path) is a function of (seed, stage, epoch, step), and parameters, AdamW moments and step counts come back
 * from the checkpoint.
 */
class ResumeTest {

    @TempDir static Path data;
    @TempDir Path out;
    static MethodRegistry methods;

    /** Stands in for kill -9: an Error the trainer does not catch, thrown after a given global step. */
    static final class Killed extends Error {
        Killed() {
            super("killed");
        }
    }

    @BeforeAll
    static void makeData() throws Exception {
        TestData.miniVtab(data, 6, 2);
        methods = MethodRegistry.discover(data.resolve("no-plugins"));
    }

    private record Run(Map<String, float[]> parameters, List<EpochStats> history) {}

    /** Trains the experiment to the end, crashing once after {@code killAfterStep} steps (-1: never), then resuming. */
    private Run train(Experiment e, Path checkpointDir, int killAfterStep) {
        Run run = attempt(e, checkpointDir, killAfterStep);
        return run != null ? run : attempt(e, checkpointDir, -1);
    }

    /** One process's try: null if it was killed after {@code killAfterStep} steps. */
    private Run attempt(Experiment e, Path checkpointDir, int killAfterStep) {
        int[] steps = {0};
        try (NDManager manager = NDManager.newBaseManager()) {
            SplitList[] lists = DatasetLayouts.splits(e.data());
            PeftModel model = new ModelFactory(BackboneRegistry.load()).assemble(e, methods, lists[0].numClasses(), 5,
                    manager, new PrintWriter(new StringWriter()));
            ImageSet[] images = TaskData.images(lists, e.data(), model.backbone().dataConfig());
            StepObserver observer = new StepObserver() {
                @Override
                public void stepDone(double loss, double accuracy, double imagesPerSecond) {
                    if (killAfterStep >= 0 && ++steps[0] > killAfterStep) {
                        throw new Killed();
                    }
                }
            };
            Trainer trainer = new Trainer(model, e.train(), e.data().batchSize(), 64, 5, observer, stats -> {})
                    .withCheckpoints(new CheckpointFile(checkpointDir));
            try {
                List<EpochStats> history = trainer.fit(images[0], images[1], model.tuner().plan(Trainer.basePlan(e.train())));
                Map<String, float[]> params = new LinkedHashMap<>();
                model.savedParameters().forEach((k, p) -> params.put(k, p.getArray().toFloatArray()));
                return new Run(params, history);
            } catch (Killed k) {
                return null;
            }
        }
    }

    /** 60 images, batch 16: 4 steps per epoch, 3 epochs. Kill after step 6 (mid-epoch 2) or 8 (right after epoch 2). */
    @ParameterizedTest
    @CsvSource({
        "'method { id = mlae, masking = stochastic }\nbackbone.drop-path = 0.2', 6",
        "'method { id = mlae, masking = stochastic }\nbackbone.drop-path = 0.2', 8",
        "'method { id = adaptformer }\ntrain.eval-every = 1', 5",
    })
    void aStoppedRunResumesToExactlyTheUninterruptedResult(String hocon, int killAfter) {
        Experiment e = TestData.experiment(methods, data, out, hocon + "\ntrain { epochs = 3, warmup-epochs = 1 }");
        Run straight = train(e, out.resolve("straight"), -1);
        Run resumed = train(e, out.resolve("resumed"), killAfter);
        assertThat(resumed.parameters().keySet()).isEqualTo(straight.parameters().keySet());
        straight.parameters().forEach((k, v) -> assertThat(resumed.parameters().get(k)).as(k).containsExactly(v));
        assertThat(resumed.history()).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(resumed.history().get(i).loss()).as("epoch %d loss", i + 1).isEqualTo(straight.history().get(i).loss());
            assertThat(resumed.history().get(i).eval()).isEqualTo(straight.history().get(i).eval());
        }
    }

    /**
     * DMLoRA changes the model at epoch starts: the replayed hooks drop (or average) the same branches again, then the
     * saved values and moments of the survivors fit by name. 3 main epochs (4 -> 2 -> 1 branches) + 2 scale epochs,
     * 4 steps each: killed mid main epoch 2, right after a halving epoch, or in the scale stage.
     */
    @ParameterizedTest
    @CsvSource({
        "'branches = 4, drop-every = 1', 6",
        "'branches = 4, drop-every = 1, scheme = B', 8",
        "'branches = 4, drop-every = 1, survivor-moments = reset', 10",
        "'branches = 4, drop-every = 1', 18",
    })
    void dmloraResumesThroughItsHalvingsAndItsScaleStage(String options, int killAfter) {
        Experiment e = TestData.experiment(methods, data, out, "method { id = dmlora, scale-epochs = 2, " + options
                + " }\ntrain { epochs = 3, warmup-epochs = 1 }");
        Run straight = train(e, out.resolve("straight"), -1);
        Run resumed = train(e, out.resolve("resumed"), killAfter);
        assertThat(straight.parameters().keySet()).anyMatch(k -> k.endsWith(".scale"));
        assertThat(resumed.parameters().keySet()).isEqualTo(straight.parameters().keySet());
        straight.parameters().forEach((k, v) -> assertThat(resumed.parameters().get(k)).as(k).containsExactly(v));
        assertThat(resumed.history()).hasSize(5);
        for (int i = 0; i < 5; i++) {
            assertThat(resumed.history().get(i).loss()).as("epoch %d loss", i + 1).isEqualTo(straight.history().get(i).loss());
        }
    }

    @org.junit.jupiter.api.Test
    void aCheckpointOfAnotherModelIsRefusedNamingTheTensors() {
        Experiment lora = TestData.experiment(methods, data, out, "method { id = lora }\ntrain { epochs = 3 }");
        assertThat(attempt(lora, out.resolve("shared"), 6)).isNull();
        Experiment bitfit = TestData.experiment(methods, data, out, "method { id = bitfit }\ntrain { epochs = 3 }");
        assertThatThrownBy(() -> attempt(bitfit, out.resolve("shared"), -1)).hasMessageContaining("do not fit this model")
                .hasMessageContaining("lora_");
    }
}
