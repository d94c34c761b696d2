package org.peft4j.runner.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.runner.TestData;
import org.peft4j.runner.registry.MethodRegistry;

/** The generated sbatch scripts and what a submission sends to sbatch, checked without Slurm. */
class SlurmScriptsTest {

    @TempDir static Path data;
    @TempDir Path out;
    static MethodRegistry methods;

    @BeforeAll
    static void makeData() throws Exception {
        TestData.miniVtab(data, 2, 1);
        methods = MethodRegistry.discover(data.resolve("no-plugins"));
    }

    @Test
    void arrayRangesCompressIndices() {
        assertThat(SlurmScripts.ranges(List.of(0, 1, 2, 3))).isEqualTo("0-3");
        assertThat(SlurmScripts.ranges(List.of(9, 0, 1, 7, 10, 3, 2))).isEqualTo("0-3,7,9-10");
        assertThat(SlurmScripts.ranges(List.of(5))).isEqualTo("5");
    }

    @Test
    void theScriptCarriesArrayResourcesEnvironmentAndTheCellCommand() {
        SlurmScripts.Resources r = SlurmScripts.Resources.from(ConfigFactory.parseString(
                "partition = gpu-a100, gpus = 1, cpus = 8, memory = 32G, time = \"12:00:00\", extra = [\"--account=vision\", "
                        + "\"--qos=high\"], command = \"/opt/peft4j/peft4j\", max-parallel = 4"), "x.conf");
        String s = SlurmScripts.script("peft4j-demo-final", "final", List.of(0, 1, 2, 5), r, Path.of("/work/proj"),
                Path.of("/work/proj/results/demo/compare.conf"), Path.of("/work/proj/results/demo/slurm/logs"));
        assertThat(s.lines().toList()).containsSubsequence(
                "#!/bin/bash",
                "#SBATCH --job-name=peft4j-demo-final",
                "#SBATCH --array=0-2,5%4",
                "#SBATCH --chdir=/work/proj",
                "#SBATCH --output=/work/proj/results/demo/slurm/logs/final-%A_%a.out",
                "#SBATCH --cpus-per-task=8",
                "#SBATCH --mem=32G",
                "#SBATCH --time=12:00:00",
                "#SBATCH --gres=gpu:1",
                "#SBATCH --partition=gpu-a100",
                "#SBATCH --requeue",
                "#SBATCH --account=vision",
                "#SBATCH --qos=high",
                "export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
                "exec /opt/peft4j/peft4j run-cell /work/proj/results/demo/compare.conf final \"$SLURM_ARRAY_TASK_ID\"");
        SlurmScripts.Resources cpu = SlurmScripts.Resources.from(ConfigFactory.parseString(
                "partition = \"\", gpus = 0, cpus = 2, memory = 4G, time = \"1:00:00\", extra = [], command = \"\", max-parallel = 0"),
                "x.conf");
        String plain = SlurmScripts.script("j", "tune", List.of(0, 1), cpu, Path.of("/w"), Path.of("/w/m.conf"), Path.of("/w/l"));
        assertThat(plain).contains("#SBATCH --array=0-1\n").doesNotContain("--gres").doesNotContain("--partition")
                .contains(ChildCommand.MAIN_CLASS + " run-cell /w/m.conf tune");
    }

    @Test
    void badResourcesAreNamed() {
        assertThatThrownBy(() -> SlurmScripts.Resources.from(ConfigFactory.parseString(
                "partition = \"\", gpus = 0, cpus = 2, memory = 4G, time = \"1:00:00\", extra = [\"account=x\"], command = \"\", "
                        + "max-parallel = 0"), "x.conf")).hasMessageContaining("executor.slurm.extra in x.conf")
                .hasMessageContaining("account=x");
    }

    /** A fake sbatch records its arguments: the tune array first, the final array after it with afterok. */
    @Test
    void submissionSendsTheTuneArrayThenTheFinalArrayDependingOnIt() throws Exception {
        Path log = out.resolve("sbatch.log");
        Path sbatch = fake("sbatch", "echo \"$@\" >> " + log + "\nif grep -q tune \"${@: -1}\"; then echo 101; else echo 102; fi");
        Path squeue = fake("squeue", "true");
        Path file = out.resolve("cmp.conf");
        Files.writeString(file, "experiment = sl\noutput = \"" + out.resolve("results") + "\"\nseeds = [1, 2]\n"
                + "data { root = \"" + data + "\", name = mini }\n"
                + "compare {\n  methods = [linear, { id = lora, sweep { method.rank = [2, 4] } }]\n}\n"
                + "executor.slurm { cpus = 2, memory = 2G }\n");
        Matrix matrix = Matrix.load(file, List.of(), methods);
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        SlurmSubmitter.Submission s = new SlurmSubmitter(List.of(sbatch.toString()), List.of(squeue.toString()))
                .submit(matrix, false, false, new PrintWriter(buffer, true, StandardCharsets.UTF_8));
        assertThat(s.tune()).containsExactly(0, 1); // lora's two ranks on the validation split
        assertThat(s.finals()).containsExactly(0, 1, 2, 3); // linear x 2 seeds, lora (best rank) x 2 seeds
        assertThat(s.tuneJob()).isEqualTo("101");
        assertThat(s.finalJob()).isEqualTo("102");
        List<String> calls = Files.readAllLines(log);
        assertThat(calls).hasSize(2);
        assertThat(calls.get(0)).startsWith("--parsable ").endsWith("tune.sbatch");
        assertThat(calls.get(1)).startsWith("--parsable --dependency=afterok:101 ").endsWith("final.sbatch");
        Path folder = out.resolve("results/sl/slurm");
        assertThat(Files.readString(folder.resolve("tune.sbatch"))).contains("#SBATCH --array=0-1\n").contains("--mem=2G")
                .contains("run-cell " + out.resolve("results/sl/compare.conf").toAbsolutePath() + " tune");
        assertThat(Files.readString(folder.resolve("final.sbatch"))).contains("#SBATCH --array=0-3\n");
        // the matrix file the tasks read expands to the same cells
        Matrix again = Matrix.load(out.resolve("results/sl/compare.conf"), List.of(), methods);
        assertThat(again.tuneCells()).extracting(c -> c.cell().label())
                .containsExactlyElementsOf(matrix.tuneCells().stream().map(c -> c.cell().label()).toList());
        assertThat(again.finalSlots()).hasSize(4);
    }

    @Test
    void aDryRunPrintsTheCellsAndScriptsAndSubmitsNothing() throws Exception {
        Path file = out.resolve("cmp.conf");
        Files.writeString(file, "experiment = dry\noutput = \"" + out.resolve("results") + "\"\nseeds = [1]\n"
                + "data { root = \"" + data + "\", name = mini }\ncompare { methods = [linear, lora] }\n");
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        new SlurmSubmitter(List.of("/nonexistent/sbatch"), List.of("/nonexistent/squeue"))
                .submit(Matrix.load(file, List.of(), methods), false, true, new PrintWriter(buffer, true, StandardCharsets.UTF_8));
        String text = buffer.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("0 of 0 tune cells and 2 of 2 final cells").contains("0: mini/linear/default/final/seed-1")
                .contains("1: mini/lora/default/final/seed-1").contains("---- final.sbatch").contains("#SBATCH --array=0-1");
        assertThat(out.resolve("results/dry/slurm/final.sbatch")).doesNotExist();
    }

    private Path fake(String name, String body) throws Exception {
        Path f = out.resolve(name);
        Files.writeString(f, "#!/bin/bash\n" + body + "\n");
        f.toFile().setExecutable(true);
        return f;
    }
}
