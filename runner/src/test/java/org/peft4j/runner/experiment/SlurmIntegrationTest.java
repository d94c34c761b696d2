package org.peft4j.runner.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.runner.TestData;
import org.peft4j.runner.cli.Peft4jCli;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.report.Report;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/**
 * A real single-node Slurm on this machine (tools/slurm/local-slurm.sh installs Debian's slurm-wlm and munge and
 * starts them): a 4-cell comparison on fashion-1k runs as a job array; one task is cancelled while it trains, and
 * {@code --retry-failed} finishes the matrix without redoing the finished cells. Skipped where Slurm cannot be
 * started (no root), unless PEFT4J_REQUIRE_SLURM=1.
 */
class SlurmIntegrationTest {

    @TempDir static Path work;
    static MethodRegistry methods;

    @BeforeAll
    static void startSlurm() throws Exception {
        Path script = TestData.FASHION.getParent().getParent().resolve("tools/slurm/local-slurm.sh");
        Process p = new ProcessBuilder(script.toString(), "start").redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean up = p.waitFor(600, TimeUnit.SECONDS) && p.exitValue() == 0;
        if (!up && "1".equals(System.getenv("PEFT4J_REQUIRE_SLURM"))) {
            throw new AssertionError("Slurm could not be started: " + log);
        }
        assumeTrue(up, "no local Slurm (tools/slurm/local-slurm.sh start needs root): " + log);
        methods = MethodRegistry.discover(work.resolve("no-plugins"));
    }

    private static String sh(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
    }

    /** Waits until no task whose name starts with {@code name} is queued or running. */
    private static void waitForQueue(String name, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (sh("squeue", "-h", "-o", "%j").lines().anyMatch(l -> l.startsWith(name))) {
            assertThat(System.nanoTime()).as("Slurm tasks still queued after " + seconds + " s:\n" + sh("squeue")).isLessThan(deadline);
            Thread.sleep(1000);
        }
    }

    private static Map<Path, String> finishedMetrics(Path experiment) throws Exception {
        Map<Path, String> out = new TreeMap<>();
        for (Path cell : Report.cellFolders(experiment)) {
            if (CellStatus.read(cell).orElseThrow().ok()) {
                out.put(cell, Files.readString(cell.resolve(RunDirectory.METRICS)));
            }
        }
        return out;
    }

    @Test
    void aFourCellMatrixRunsAsAJobArrayAndACancelledTaskIsRetried() throws Exception {
        Path fashion = TestData.FASHION;
        Path file = work.resolve("slurm.conf");
        String experiment = "slurm-it-" + ProcessHandle.current().pid();
        Files.writeString(file, "experiment = " + experiment + "\noutput = \"" + work.resolve("results") + "\"\nprogress = false\n"
                + "seeds = [1, 2]\n"
                + "backbone.checkpoint = \"" + fashion.getParent().resolve("pretrained/vit_micro_patch4_32_fmnist_rotation.safetensors") + "\"\n"
                + "data { root = \"" + fashion.getParent() + "\", name = fashion-1k, batch-size = 100 }\n"
                + "train { epochs = 3, lr = 3e-3 }\n"
                + "compare { methods = [linear, { id = lora, rank = 4 }] }\n"
                + "executor.slurm { cpus = 1, memory = 1500M, time = \"0:20:00\" }\n");
        Matrix matrix = Matrix.load(file, List.of(), methods);
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintWriter out = new PrintWriter(buffer, true, StandardCharsets.UTF_8);
        SlurmSubmitter.Submission first = new SlurmSubmitter().submit(matrix, false, false, out);
        assertThat(first.finals()).containsExactly(0, 1, 2, 3);
        assertThat(first.tune()).isEmpty();

        // cancel the last task once it is training (its cell says running)
        String victim = first.finalJob() + "_3";
        Path experimentFolder = work.resolve("results").resolve(experiment);
        Path victimCell = matrix.resolve(matrix.finalSlots().get(3)).cell().folder(matrix.output());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!CellStatus.read(victimCell).map(s -> s.state().equals(CellStatus.RUNNING)).orElse(false)) {
            assertThat(System.nanoTime()).as("task " + victim + " never started:\n" + sh("squeue")).isLessThan(deadline);
            Thread.sleep(200);
        }
        sh("scancel", victim);
        waitForQueue("peft4j-" + experiment, 600);
        assertThat(finishedMetrics(experimentFolder)).hasSize(3);
        CellStatus stopped = CellStatus.read(victimCell).orElseThrow();
        assertThat(stopped.state()).isEqualTo(CellStatus.RUNNING);
        assertThat(stopped.slurmJob()).isEqualTo(victim);

        String status = cli("status", experimentFolder.toString());
        assertThat(status).contains(experiment + ": 3 ok, 0 running, 1 stopped, 0 failed, 0 of 4 not started")
                .contains("stopped  fashion-1k/lora/default/final/seed-2").contains("Slurm task " + victim);

        Map<Path, String> before = finishedMetrics(experimentFolder);
        SlurmSubmitter.Submission retry = new SlurmSubmitter().submit(Matrix.load(file, List.of(), methods), true, false, out);
        assertThat(retry.finals()).containsExactly(3);
        waitForQueue("peft4j-" + experiment, 600);
        Map<Path, String> after = finishedMetrics(experimentFolder);
        assertThat(after).hasSize(4);
        before.forEach((cell, metrics) -> assertThat(after.get(cell)).as(cell.toString()).isEqualTo(metrics));

        Report report = Report.write(experimentFolder);
        assertThat(report.table().methods()).containsExactly("linear", "lora");
        assertThat(report.table().score("lora", "fashion-1k").orElseThrow().seeds()).isEqualTo(2);
        assertThat(report.table().score("linear", "fashion-1k").orElseThrow().seeds()).isEqualTo(2);
        List<String> logs = new ArrayList<>();
        try (var s = Files.list(experimentFolder.resolve("slurm/logs"))) {
            s.forEach(p -> logs.add(p.getFileName().toString()));
        }
        assertThat(logs).anyMatch(l -> l.startsWith("final-" + first.finalJob() + "_"));
        assertThat(Json.read(victimCell.resolve(RunDirectory.METRICS)).get("status").getAsString()).isEqualTo("ok");
    }

    private static String cli(String... args) {
        java.io.StringWriter o = new java.io.StringWriter();
        java.io.StringWriter e = new java.io.StringWriter();
        Peft4jCli.execute(args, new java.io.PrintWriter(o, true), new java.io.PrintWriter(e, true));
        return o + e.toString();
    }
}
