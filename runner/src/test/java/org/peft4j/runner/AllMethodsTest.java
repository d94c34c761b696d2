package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TaskData;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.RunDirectory;
import org.peft4j.runner.train.EpochStats;
import org.peft4j.runner.train.Evaluator;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.StepObserver;
import org.peft4j.runner.train.Trainer;

/**
 * Every registered method (baselines and paper methods alike; a new method joins by being registered) trains
 * one short epoch on fashion-1k with a micro ViT: the loss falls, and a full run writes its results.
 */
class AllMethodsTest {

    @TempDir static Path data;
    @TempDir Path out;
    static MethodRegistry methods;

    @BeforeAll
    static void setUp() throws Exception {
        TestData.miniVtab(data, 16, 4);
        methods = MethodRegistry.discover(data.resolve("no-plugins"));
    }

    static Stream<String> methodIds() {
        return MethodRegistry.discover(Path.of("no-plugins")).ids().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("methodIds")
    void oneEpochLowersTheLossAndARunWritesItsResults(String id) throws Exception {
        Experiment e = TestData.experiment(methods, data, out, "method { id = " + id + " }\ntrain { epochs = 1, lr = 3e-3 }");
        try (NDManager manager = NDManager.newBaseManager()) {
            SplitList[] splits = DatasetLayouts.splits(e.data());
            PeftModel model = new ModelFactory(BackboneRegistry.load()).assemble(e, methods, splits[0].numClasses(), 3,
                    manager, new PrintWriter(new StringWriter()));
            ImageSet train = TaskData.images(splits, e.data(), model.backbone().dataConfig())[0];
            double before = Evaluator.evaluate(model, train, 256).loss();
            List<EpochStats> seen = new ArrayList<>();
            new Trainer(model, e.train(), 16, 256, 3, new StepObserver() {}, seen::add).fit(train, null, model.tuner().plan(Trainer.basePlan(e.train())));
            double after = Evaluator.evaluate(model, train, 256).loss();
            assertThat(after).as("%s: train loss before %.4f, after one epoch %.4f", id, before, after).isLessThan(before);
        }
        var results = new ExperimentRunner(BackboneRegistry.load()).run(e, methods, new PrintWriter(new StringWriter()));
        Path dir = results.get(0).directory().path();
        for (String file : List.of(RunDirectory.CONFIG, RunDirectory.METRICS, RunDirectory.ADAPTER, RunDirectory.LOG)) {
            assertThat(dir.resolve(file)).as(id + " " + file).exists();
        }
        Config metrics = ConfigFactory.parseString(Files.readString(dir.resolve(RunDirectory.METRICS)));
        assertThat(metrics.getString("status")).isEqualTo("ok");
        assertThat(metrics.getString("method")).isEqualTo(id);
        assertThat(metrics.hasPath("trainable_params")).isTrue();
    }
}
