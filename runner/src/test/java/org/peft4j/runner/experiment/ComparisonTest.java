package org.peft4j.runner.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.TestData;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/** The compare workflow: cell identity, skipping and resuming, selection on validation only, bad input. */
class ComparisonTest {

    @TempDir static Path data;
    @TempDir Path out;
    static MethodRegistry methods;

    @BeforeAll
    static void makeData() throws Exception {
        TestData.miniVtab(data, 3, 2);
        methods = MethodRegistry.discover(data.resolve("no-plugins"));
    }

    private Path file(String body) throws Exception {
        Path f = out.resolve("cmp.conf");
        Files.writeString(f, "experiment = cmp\noutput = \"" + out.resolve("results") + "\"\nprogress = false\n"
                + "data { root = \"" + data + "\", name = mini, batch-size = 16 }\ntrain { epochs = 1 }\n" + body);
        return f;
    }

    private static Comparison comparison() {
        return new Comparison(new CellRunner(new ModelFactory(BackboneRegistry.load()), new TaskData()));
    }

    private record Ran(Comparison.Summary summary, String out) {}

    private Ran compare(Path file) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        Comparison.Summary s = comparison().run(Matrix.load(file, List.of(), methods), methods, new SequentialExecutor(), false,
                false, new PrintWriter(buffer, true, StandardCharsets.UTF_8));
        return new Ran(s, buffer.toString(StandardCharsets.UTF_8));
    }

    private static List<Path> metricsFiles(Path root) throws Exception {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().equals(RunDirectory.METRICS)).sorted().toList();
        }
    }

    @Test
    void tuneAndFinalRunsOfEveryPointAndSeedKeepTheirOwnFoldersAndAreNeverRedone() throws Exception {
        Path f = file("seeds = [1, 2]\ncompare {\n  methods = [{ id = lora, rank = 2 }]\n  sweep { train.lr = [1e-3, 3e-3] }\n}\n");
        Ran first = compare(f);
        assertThat(first.summary().failed()).isEmpty();
        Path method = out.resolve("results/cmp/mini/lora");
        String chosen = Json.read(method.resolve(Selection.FILE)).get("selected").getAsString();
        assertThat(chosen).isIn("lr=0.001", "lr=0.003");
        assertThat(metricsFiles(out.resolve("results"))).containsExactlyInAnyOrder(
                method.resolve("lr=0.001/tune/seed-1/metrics.json"), method.resolve("lr=0.003/tune/seed-1/metrics.json"),
                method.resolve(chosen + "/final/seed-1/metrics.json"), method.resolve(chosen + "/final/seed-2/metrics.json"));
        assertThat(Json.read(method.resolve("lr=0.001/tune/seed-1/metrics.json")).getAsJsonObject("eval").get("split")
                .getAsString()).isEqualTo("val200");
        assertThat(Json.read(method.resolve(chosen + "/final/seed-2/metrics.json")).getAsJsonObject("eval").get("split")
                .getAsString()).isEqualTo("test");
        Path killed = method.resolve(chosen + "/final/seed-2");
        Map<Path, String> before = new TreeMap<>();
        metricsFiles(out.resolve("results")).forEach(p -> before.put(p, read(p)));

        // a stopped comparison: one final run was killed while training (status running, no metrics)
        CellStatus.write(killed, CellStatus.RUNNING, null);
        Files.delete(killed.resolve(RunDirectory.METRICS));
        Ran again = compare(f);
        assertThat(again.out().lines().filter(l -> l.startsWith("skipped ")).count()).isEqualTo(3);
        assertThat(again.out()).contains("test accuracy:").doesNotContain("FAILED");
        before.forEach((p, text) -> { // the finished ones are untouched: same bytes
            if (!p.startsWith(killed)) {
                assertThat(read(p)).as(p.toString()).isEqualTo(text);
            }
        });
        assertThat(Json.read(killed.resolve(RunDirectory.METRICS)).get("status").getAsString()).isEqualTo("ok");
        assertThat(Files.readString(out.resolve("results/cmp/report/results.md"))).contains("| lora |");
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    @Test
    void theSweepPointIsChosenOnValidationEvenWhenTestWouldChooseTheOther() throws Exception {
        Path f = file("seeds = [1]\ncompare {\n  methods = [{ id = lora, rank = 2 }]\n  sweep { train.lr = [1e-3, 3e-3] }\n}\n");
        Matrix matrix = Matrix.load(f, List.of(), methods);
        Matrix.Group g = matrix.groups().get(0);
        // validation prefers lr=0.001; test would prefer lr=0.003 (its final run exists, to tempt a wrong reader)
        FakeCells.finished(matrix.cell(g, g.point("lr=0.001"), "tune", 1), 0.90, 0.01);
        FakeCells.finished(matrix.cell(g, g.point("lr=0.003"), "tune", 1), 0.50, 0.01);
        FakeCells.finished(matrix.cell(g, g.point("lr=0.001"), "final", 1), 0.10, 0.01);
        FakeCells.finished(matrix.cell(g, g.point("lr=0.003"), "final", 1), 0.99, 0.01);
        Ran ran = compare(f);
        assertThat(ran.out()).contains("chose lr=0.001 by val200 accuracy");
        assertThat(ran.summary().selections().get("mini/lora").point()).isEqualTo("lr=0.001");
        assertThat(ran.summary().report().markdown()).contains("| lora | 0.010 | 10.00 |").doesNotContain("99.00");
        assertThat(ran.out().lines().filter(l -> l.startsWith("skipped ")).count()).isEqualTo(3); // nothing trained
    }

    @Test
    void aSweepKeyThatIsNoSettingIsNamedBeforeAnyTraining() throws Exception {
        Path f = file("compare {\n  methods = [lora, linear]\n  sweep { train.lrr = [1e-3, 3e-3] }\n}\n");
        assertThatThrownBy(() -> Matrix.load(f, List.of(), methods)).isInstanceOf(PeftException.class)
                .hasMessageContaining("sweep key 'train.lrr' is not a setting").hasMessageContaining("did you mean 'train.lr'")
                .hasMessageContaining("cmp.conf line 8");
        Path g = file("compare {\n  methods = [linear]\n  sweep { method.rank = [2, 4] }\n}\n");
        assertThatThrownBy(() -> Matrix.load(g, List.of(), methods)).hasMessageContaining("'method.rank'")
                .hasMessageContaining("of method linear");
        assertThat(out.resolve("results")).doesNotExist();
    }

    @Test
    void anEmptySweepListIsAnError() throws Exception {
        Path f = file("compare {\n  sweep { train.lr = [] }\n}\n");
        assertThatThrownBy(() -> Matrix.load(f, List.of(), methods)).hasMessageContaining("'train.lr' is an empty list")
                .hasMessageContaining("line 7");
    }

    @Test
    void everyProblemOfAFileIsReportedAtOnce() throws Exception {
        Path f = file("compare {\n  methods = [lora, nosuch, { id = lora }]\n  sweep { train.lr = [] }\n  datasetz = [a]\n}\n");
        assertThatThrownBy(() -> Matrix.load(f, List.of(), methods)).hasMessageContaining("4 problems in")
                .hasMessageContaining("unknown method 'nosuch'").hasMessageContaining("two methods are labelled 'lora'")
                .hasMessageContaining("empty list").hasMessageContaining("unknown key 'compare.datasetz'");
    }

    @Test
    void aResultsFolderOfOtherSettingsIsRefusedBeforeAnyTraining() throws Exception {
        Path f = file("seeds = [1]\ncompare {\n  methods = [{ id = lora, rank = 2 }]\n}\n");
        Matrix matrix = Matrix.load(f, List.of(), methods);
        Matrix.Group g = matrix.groups().get(0);
        FakeCells.finished(matrix.cell(g, g.points().get(0), "final", 1), 0.5, 0.01);
        Path other = file("seeds = [1]\ntrain.lr = 0.05\ncompare {\n  methods = [{ id = lora, rank = 2 }]\n}\n");
        assertThatThrownBy(() -> compare(other)).isInstanceOf(PeftException.class)
                .hasMessageContaining("cmp/mini/lora/default/final/seed-1 holds a run of other settings")
                .hasMessageContaining("train.lr: 0.001 then, 0.05 now").hasMessageContaining("--force");
    }

    @Test
    void theLocalExecutorRunsCellsAsParallelChildProcesses() throws Exception {
        Path f = file("seeds = [1]\ncompare {\n  methods = [linear, { id = lora, rank = 2 }]\n}\n");
        Matrix matrix = Matrix.load(f, List.of(), methods);
        Path folder = out.resolve("results/cmp");
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        Comparison.Summary s = comparison().run(matrix, methods, new LocalParallelExecutor(List.of("cpu", "cpu"),
                ChildCommand.words(null), folder.resolve(Comparison.MATRIX_FILE), folder.resolve("logs"), false), false, false,
                new PrintWriter(buffer, true, StandardCharsets.UTF_8));
        assertThat(s.failed()).as(buffer.toString(StandardCharsets.UTF_8)).isEmpty();
        assertThat(s.report().table().methods()).containsExactly("linear", "lora");
        assertThat(Files.readString(folder.resolve("logs/final-1.log"))).contains("mini/lora/default/final/seed-1")
                .contains("test accuracy");
        for (String method : List.of("linear", "lora")) {
            assertThat(CellStatus.read(folder.resolve("mini/" + method + "/default/final/seed-1")).orElseThrow().process())
                    .isNotEqualTo(java.lang.management.ManagementFactory.getRuntimeMXBean().getName()); // a child ran it
        }
    }

    @Test
    void thePreflightNamesEveryRunsProblemsBeforeAnyTraining() throws Exception {
        Path f = file("seeds = [1]\nbackbone.checkpoint = \"nope.safetensors\"\n"
                + "compare {\n  methods = [linear, { id = lora, rank = 2 }]\n  sweep { train.lr = [1e-3, 3e-3] }\n}\n");
        Matrix matrix = Matrix.load(f, List.of(), methods);
        assertThatThrownBy(() -> matrix.preflight(BackboneRegistry.load())).isInstanceOf(PeftException.class)
                .hasMessageContaining("mini/linear/lr=0.001: checkpoint not found: nope.safetensors")
                .hasMessageContaining("mini/lora/lr=0.003: checkpoint not found: nope.safetensors");
        assertThat(out.resolve("results")).doesNotExist();
    }
}
