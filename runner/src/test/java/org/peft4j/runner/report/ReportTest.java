package org.peft4j.runner.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;
import org.peft4j.runner.experiment.CellStatus;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/** The report reads a results tree and prints the papers' table; checked against means computed by hand. */
class ReportTest {

    @TempDir Path root;

    private void run(String dataset, String method, String point, String protocol, long seed, double accuracy, double paramsM)
            throws Exception {
        Path folder = root.resolve("exp").resolve(dataset).resolve(method).resolve(point).resolve(protocol).resolve("seed-" + seed);
        Files.createDirectories(folder);
        CellStatus.write(folder, CellStatus.OK, null);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("experiment", "exp");
        m.put("dataset", dataset);
        m.put("method", method);
        m.put("point", point);
        m.put("protocol", protocol);
        m.put("seed", seed);
        m.put("status", "ok");
        m.put("trainable_params_m", paramsM);
        m.put("eval", Map.of("split", protocol.equals("final") ? "test" : "val200", "accuracy", accuracy));
        m.put("accuracy", accuracy);
        m.put("epochs", List.of(Map.of("stage", "main", "loss", 2.0), Map.of("stage", "main", "loss", 1.0)));
        Json.write(folder.resolve(RunDirectory.METRICS), m);
    }

    @Test
    void tablesHoldSeedMeansStdsGroupMeansAndBothOverallMeans() throws Exception {
        // lora: cifar (Natural) 0.70, 0.74; dtd (Natural) 0.50, 0.50; eurosat (Specialized) 0.90, 0.94
        run("cifar", "lora", "default", "final", 1, 0.70, 0.3);
        run("cifar", "lora", "default", "final", 2, 0.74, 0.3);
        run("dtd", "lora", "default", "final", 1, 0.50, 0.3);
        run("dtd", "lora", "default", "final", 2, 0.50, 0.3);
        run("eurosat", "lora", "default", "final", 1, 0.90, 0.3);
        run("eurosat", "lora", "default", "final", 2, 0.94, 0.3);
        // linear: one seed on each, and a tune run that must not count
        run("cifar", "linear", "default", "final", 1, 0.40, 0.0);
        run("dtd", "linear", "default", "final", 1, 0.30, 0.0);
        run("eurosat", "linear", "default", "final", 1, 0.80, 0.0);
        run("eurosat", "linear", "default", "tune", 1, 0.99, 0.0);

        Report report = Report.write(root.resolve("exp"));
        ResultsTable t = report.table();
        assertThat(t.datasets()).containsExactly("cifar", "dtd", "eurosat"); // the papers' VTAB order
        assertThat(t.score("lora", "cifar").orElseThrow().mean()).isCloseTo(0.72, within(1e-12));
        assertThat(t.score("lora", "cifar").orElseThrow().std()).isCloseTo(Math.sqrt(0.0008), within(1e-12)); // n-1
        assertThat(t.summaries()).extracting(ResultsTable.Summary::title)
                .containsExactly("Natural (2)", "Specialized (1)", "Mean of 2 group means", "Mean of 3 tasks");
        // Natural = (0.72 + 0.50) / 2 = 0.61; Specialized = 0.92; mean of group means 0.765; task mean (0.72+0.5+0.92)/3
        assertThat(t.summary("lora", t.summaries().get(0))).isCloseTo(0.61, within(1e-12));
        assertThat(t.summary("lora", t.summaries().get(2))).isCloseTo(0.765, within(1e-12));
        assertThat(t.summary("lora", t.summaries().get(3))).isCloseTo(2.14 / 3, within(1e-12));
        assertThat(t.score("linear", "eurosat").orElseThrow().mean()).isEqualTo(0.80); // the tune run is not a result
        String md = report.markdown();
        assertThat(md).contains("| Method | Params (M) | cifar | dtd | eurosat | Natural (2) | Specialized (1) | Mean of 2 group means | Mean of 3 tasks |")
                .contains("| lora | 0.300 | 72.00 ± 2.83 | 50.00 ± 0.00 | 92.00 ± 2.83 | 61.00 | 92.00 | 76.50 | 71.33 |")
                .contains("| linear | 0.000 | 40.00 (1 seed) | 30.00 (1 seed) | 80.00 (1 seed) | 35.00 | 80.00 | 57.50 | 50.00 |");
        Path folder = root.resolve("exp/report");
        assertThat(Files.readString(folder.resolve("results.csv"))).contains("lora,0.3000,72.0000,2.8284,2,");
        assertThat(Files.readAllLines(folder.resolve("runs.csv"))).hasSize(11);
        for (String png : List.of("accuracy.png", "accuracy-vs-params.png", "curves-cifar.png")) {
            byte[] bytes = Files.readAllBytes(folder.resolve(png));
            assertThat(bytes).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        }
    }

    @Test
    void aFolderWithoutResultsIsNamed() throws Exception {
        Files.createDirectories(root.resolve("empty/x"));
        assertThatThrownBy(() -> Report.experimentFolders(root.resolve("empty"))).isInstanceOf(PeftException.class)
                .hasMessageContaining("no peft4j results under").hasMessageContaining("empty");
        assertThatThrownBy(() -> Report.experimentFolders(root.resolve("nothere"))).hasMessageContaining("not found");
    }

    @Test
    void aRootWithSeveralExperimentsGivesEach() throws Exception {
        run("cifar", "lora", "default", "final", 1, 0.70, 0.3);
        Path other = root.resolve("exp2/cifar/lora/default/final/seed-1");
        Files.createDirectories(other);
        Files.copy(root.resolve("exp/cifar/lora/default/final/seed-1/metrics.json"), other.resolve("metrics.json"));
        assertThat(Report.experimentFolders(root)).containsExactly(root.resolve("exp"), root.resolve("exp2"));
        assertThat(Report.experimentFolders(root.resolve("exp"))).containsExactly(root.resolve("exp"));
    }
}
