package org.peft4j.runner.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.io.Npy;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.TestData;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TrainedRun;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/** Adapter files as artifacts: evaluate reproduces a run's accuracy, merge writes a checkpoint forward reproduces. */
class ArtifactsTest {

    @TempDir static Path root;
    @TempDir static Path work;
    static Path loraRun;

    @BeforeAll
    static void trainOnce() throws Exception {
        TestData.miniVtab(root, 3, 2);
        Path file = experiment("lora", "method { id = lora, rank = 2 }");
        CliTest.Result r = CliTest.cli("run", file.toString());
        assertThat(r.code()).as(r.err()).isZero();
        loraRun = work.resolve("results/art-lora/mini/lora/default/final/seed-42");
    }

    static Path experiment(String name, String extra) throws Exception {
        Path file = work.resolve(name + ".conf");
        Files.writeString(file, "experiment = art-" + name + "\noutput = \"" + work.resolve("results") + "\"\nprogress = false\n"
                + "data { root = \"" + root + "\", name = mini, batch-size = 8 }\ntrain { epochs = 1 }\n" + extra);
        return file;
    }

    @Test
    void evaluateReproducesTheRunsOwnTestAccuracyFromItsAdapterFile() throws Exception {
        double recorded = Json.read(loraRun.resolve(RunDirectory.METRICS)).get("accuracy").getAsDouble();
        Path predictions = work.resolve("pred.csv");
        CliTest.Result r = CliTest.cli("evaluate", loraRun.toString(), "--predictions", predictions.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<String> rows = Files.readAllLines(predictions).subList(1, Files.readAllLines(predictions).size());
        long correct = rows.stream().map(l -> l.split(",")).filter(c -> c[1].equals(c[2])).count();
        assertThat((double) correct / rows.size()).isEqualTo(recorded);
        assertThat(rows).hasSize(20).allMatch(l -> l.contains(".png,"));
        assertThat(r.out()).contains(String.format(java.util.Locale.ROOT, "test accuracy: %.2f%%", 100 * recorded));
    }

    @Test
    void mergeWritesATimmCheckpointThatForwardReproduces() throws Exception {
        Path merged = work.resolve("merged.safetensors");
        CliTest.Result r = CliTest.cli("merge", loraRun.toString(), "--output", merged.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("merged lora into vit_micro_patch4_32");
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(9);
            NDArray x = m.randomNormal(new Shape(3, 3, 32, 32));
            Path input = work.resolve("x.npy");
            Npy.write(input, x);
            Path output = work.resolve("y.npy");
            CliTest.Result f = CliTest.cli("forward", "--backbone", "vit_micro_patch4_32", "--checkpoint", merged.toString(),
                    "--input", input.toString(), "--output", output.toString());
            assertThat(f.code()).as(f.err()).isZero();
            NDArray fromFile = Npy.read(output, m);
            MethodRegistry methods = MethodRegistry.discover(work.resolve("no-plugins"));
            TrainedRun run = TrainedRun.open(loraRun, null, List.of(), null, methods, new ModelFactory(BackboneRegistry.load()),
                    m, new PrintWriter(new StringWriter()));
            run.model().merge();
            NDArray expected = run.model().logits(x, false);
            assertThat(fromFile.getShape()).isEqualTo(new Shape(3, 10));
            assertThat(fromFile.sub(expected).abs().max().getFloat()).isLessThanOrEqualTo(1e-5f);
        }
    }

    @Test
    void anAdapterOfAnotherMethodOrBackboneIsRefusedInOneLine() throws Exception {
        Path adapter = loraRun.resolve(RunDirectory.ADAPTER).toAbsolutePath();
        CliTest.Result method = CliTest.cli("evaluate", experiment("mlae", "method { id = mlae }").toString(), "--adapter",
                adapter.toString());
        assertThat(method.code()).isEqualTo(1);
        assertThat(method.err().lines().toList()).hasSize(1);
        assertThat(method.err()).contains("was trained with method 'lora', not 'mlae'").contains(adapter.toString());
        CliTest.Result backbone = CliTest.cli("evaluate", experiment("swin", "method { id = lora, rank = 2 }\n"
                + "backbone.name = swin_micro_patch4_window4_32").toString(), "--adapter", adapter.toString());
        assertThat(backbone.err()).contains("was trained on backbone 'vit_micro_patch4_32', not 'swin_micro_patch4_window4_32'");
        CliTest.Result rank = CliTest.cli("evaluate", experiment("rank4", "method { id = lora, rank = 4 }").toString(),
                "--adapter", adapter.toString());
        assertThat(rank.err()).contains("other lora settings").contains("\"rank\":2");
        CliTest.Result notAdapter = CliTest.cli("evaluate", loraRun.toString(), "--adapter",
                loraRun.resolve(RunDirectory.METRICS).toString());
        assertThat(notAdapter.code()).isEqualTo(1);
        assertThat(notAdapter.err()).contains("metrics.json").doesNotContain("Exception");
    }

    @Test
    void aDmloraRunReloadsWithItsSurvivingBranchesAndLearnedScales() throws Exception {
        // halvings and the scale stage change the model while it trains: reloading rebuilds that structure first
        CliTest.Result run = CliTest.cli("run", experiment("dmlora",
                "method { id = dmlora, branches = 4, drop-every = 1, scale-epochs = 1 }\ntrain.epochs = 3").toString());
        assertThat(run.code()).as(run.err()).isZero();
        Path dir = work.resolve("results/art-dmlora/mini/dmlora/default/final/seed-42");
        double recorded = Json.read(dir.resolve(RunDirectory.METRICS)).get("accuracy").getAsDouble();
        CliTest.Result r = CliTest.cli("evaluate", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains(String.format(java.util.Locale.ROOT, "test accuracy: %.2f%%", 100 * recorded));
        CliTest.Result m = CliTest.cli("merge", dir.toString(), "--output", work.resolve("dmlora.safetensors").toString());
        assertThat(m.code()).as(m.err()).isZero();
    }

    @Test
    void methodsThatKeepModulesAtInferenceCannotBeMergedIntoTimmWeights() throws Exception {
        CliTest.Result run = CliTest.cli("run", experiment("af", "method { id = adaptformer }").toString());
        assertThat(run.code()).as(run.err()).isZero();
        CliTest.Result r = CliTest.cli("merge", work.resolve("results/art-af/mini/adaptformer/default/final/seed-42").toString(),
                "-o", work.resolve("af.safetensors").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("adaptformer keeps its").contains("cannot be folded");
        assertThat(work.resolve("af.safetensors")).doesNotExist();
    }
}
