package org.peft4j.runner.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.runner.TestData;
import org.peft4j.runner.results.CheckpointFile;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/**
 * {@code peft4j run} killed with SIGKILL (kill -9) after its first checkpoint, then started again, continues from its
 * last finished epoch and ends with the same metrics and the same adapter bytes as a run that was never stopped.
 */
class KillResumeTest {

    @TempDir Path root;

    private Path experiment(String name) throws Exception {
        Path file = root.resolve(name + ".conf");
        Files.writeString(file, "experiment = kill\noutput = \"" + root.resolve(name) + "\"\nprogress = false\n"
                + "backbone.drop-path = 0.1\n"
                + "data { root = \"" + root.resolve("data") + "\", name = mini, batch-size = 8 }\n"
                + "train { epochs = 6, warmup-epochs = 1 }\nmethod { id = mlae, masking = stochastic }\n");
        return file;
    }

    private static List<Double> losses(Path cell) {
        List<Double> out = new ArrayList<>();
        Json.read(cell.resolve(RunDirectory.METRICS)).getAsJsonArray("epochs")
                .forEach(e -> out.add(e.getAsJsonObject().get("loss").getAsDouble()));
        return out;
    }

    @Test
    void aRunKilledWithSigkillResumesToTheUninterruptedResult() throws Exception {
        TestData.miniVtab(root.resolve("data"), 3, 2);
        Path cell = Path.of("kill/mini/mlae/default/final/seed-42");

        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), Peft4jCli.class.getName(), "run",
                experiment("killed").toString()));
        Process child = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(root.resolve("child.log").toFile()).start();
        Path checkpoint = root.resolve("killed").resolve(cell).resolve(CheckpointFile.NAME);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.exists(checkpoint) && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(child.isAlive()).as("the child finished before it could be killed: " + Files.readString(root.resolve("child.log")))
                .isTrue();
        child.destroyForcibly(); // SIGKILL: no shutdown hook, no catch block runs
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(Json.read(root.resolve("killed").resolve(cell).resolve("status.json")).get("state").getAsString())
                .isEqualTo("running");

        CliTest.Result resumed = CliTest.cli("run", experiment("killed").toString());
        assertThat(resumed.code()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("resuming mini/mlae/default/final/seed-42 from its last finished epoch");
        CliTest.Result straight = CliTest.cli("run", experiment("straight").toString());
        assertThat(straight.code()).as(straight.err()).isZero();

        Path a = root.resolve("killed").resolve(cell);
        Path b = root.resolve("straight").resolve(cell);
        assertThat(Json.read(a.resolve(RunDirectory.METRICS)).get("accuracy").getAsDouble())
                .isEqualTo(Json.read(b.resolve(RunDirectory.METRICS)).get("accuracy").getAsDouble());
        assertThat(losses(a)).hasSize(6).isEqualTo(losses(b));
        assertThat(Files.readAllBytes(a.resolve(RunDirectory.ADAPTER))).isEqualTo(Files.readAllBytes(b.resolve(RunDirectory.ADAPTER)));
        assertThat(a.resolve(CheckpointFile.NAME)).doesNotExist();
    }
}
