package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.ExperimentLoader;
import org.peft4j.runner.experiment.CellRunner;
import org.peft4j.runner.experiment.Comparison;
import org.peft4j.runner.experiment.Matrix;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.SequentialExecutor;
import org.peft4j.runner.experiment.TaskData;
import org.peft4j.runner.registry.MethodRegistry;

/**
 * Every experiment file under {@code examples/} (found by listing the folder, so new ones join) validates as a whole
 * with the real loader and runs one training step and an evaluation. Only what this machine lacks is replaced: the
 * dataset by two generated images of the same dataset name (presets key on it) and a missing checkpoint by random
 * weights, which must then print the random-backbone warning.
 */
class ExamplesTest {

    static final Path REPO = TestData.FASHION.getParent().getParent();
    static MethodRegistry methods;

    @TempDir static Path work;

    @BeforeAll
    static void discover() {
        methods = MethodRegistry.discover(work.resolve("no-plugins"));
    }

    static List<Path> examples() throws IOException {
        try (Stream<Path> files = Files.walk(REPO.resolve("examples"))) {
            // reference.conf files are a plugin's defaults (examples/plugin), not experiments
            return files.filter(p -> p.toString().endsWith(".conf") && !p.getFileName().toString().equals("reference.conf"))
                    .sorted().toList();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void validatesAsAWholeAndRunsOneTrainingStep(Path file) throws IOException {
        if (ConfigFactory.parseFile(file.toFile()).hasPath("compare")) {
            comparesWithOneEpochPerCell(file);
            return;
        }
        Experiment asWritten = new ExperimentLoader(methods).load(file, List.of());
        String name = REPO.relativize(file).toString().replaceAll("[/.]", "_");
        Path data = twoImageDataset(work.resolve(name), asWritten.data().name(), asWritten.data().format());
        List<String> overrides = new ArrayList<>(List.of("train.epochs=1", "seeds=[" + asWritten.run().seeds().get(0) + "]",
                "progress=false", "output=\"" + work.resolve(name + "-results") + "\"", "data.root=\"" + data + "\""));
        boolean random = asWritten.backbone().checkpoint().isEmpty();
        if (!random) {
            Path checkpoint = REPO.resolve(asWritten.backbone().checkpoint().get());
            random = !Files.isRegularFile(checkpoint);
            overrides.add("backbone.checkpoint=\"" + (random ? "" : checkpoint) + "\"");
        }
        Experiment oneStep = new ExperimentLoader(methods).load(ConfigFactory.parseFile(file.toFile()), file.toString(), overrides);
        StringWriter out = new StringWriter();
        List<CellRunner.Outcome> results = new ExperimentRunner(BackboneRegistry.load()).run(oneStep, methods,
                new PrintWriter(out, true));
        assertThat(results).singleElement().satisfies(r -> {
            // one epoch of the main stage (a method's plan may add stages of its own, e.g. DMLoRA's scales)
            assertThat(r.history()).filteredOn(h -> h.stage().equals("main")).hasSize(1);
            assertThat(r.accuracy()).isBetween(0.0, 1.0);
        });
        assertThat(out.toString()).contains(oneStep.methodId() + " on " + oneStep.backbone().name() + " (2 train / 2 test images)");
        if (random) {
            assertThat(out.toString()).contains(ModelFactory.RANDOM_BACKBONE);
        } else {
            assertThat(out.toString()).doesNotContain(ModelFactory.RANDOM_BACKBONE).contains("checkpoint ");
        }
    }

    /** A comparison file: the whole matrix validates, and every cell of both stages trains one epoch and is tested. */
    private void comparesWithOneEpochPerCell(Path file) throws IOException {
        Matrix asWritten = Matrix.load(file, List.of(), methods);
        String name = REPO.relativize(file).toString().replaceAll("[/.]", "_");
        Path data = work.resolve(name);
        String format = new ExperimentLoader(methods).load(file, List.of()).data().format();
        for (String dataset : asWritten.groups().stream().map(Matrix.Group::dataset).distinct().toList()) {
            twoImageDataset(data, dataset, format);
        }
        List<String> overrides = new ArrayList<>(List.of("train.epochs=1", "seeds=[" + asWritten.seeds().get(0) + "]",
                "progress=false", "output=\"" + work.resolve(name + "-results") + "\"", "data.root=\"" + data + "\""));
        Experiment base = new ExperimentLoader(methods).load(file, List.of());
        base.backbone().checkpoint().ifPresent(c -> overrides.add("backbone.checkpoint=\""
                + (Files.isRegularFile(REPO.resolve(c)) ? REPO.resolve(c) : "") + "\""));
        Matrix oneEpoch = Matrix.load(ConfigFactory.parseFile(file.toFile()), file.toString(), overrides, methods);
        oneEpoch.preflight(BackboneRegistry.load());
        StringWriter out = new StringWriter();
        Comparison.Summary summary = new Comparison(new CellRunner(new ModelFactory(BackboneRegistry.load()), new TaskData()))
                .run(oneEpoch, methods, new SequentialExecutor(), false, false, new PrintWriter(out, true));
        assertThat(summary.failed()).as(out.toString()).isEmpty();
        assertThat(summary.cells()).isEqualTo(oneEpoch.tuneCells().size() + oneEpoch.finalSlots().size());
        assertThat(summary.report().table().methods()).hasSize(oneEpoch.groups().size() / (int) oneEpoch.groups().stream()
                .map(Matrix.Group::dataset).distinct().count());
    }

    /** {@code root/<name>/} with two random 32 px images per split, labels 0 and 1, in the example's layout. */
    private static Path twoImageDataset(Path root, String name, String format) throws IOException {
        Path dir = Files.createDirectories(root.resolve(name));
        Random random = new Random(0);
        List<String> lines = new ArrayList<>();
        StringBuilder json = new StringBuilder("{");
        for (int i = 0; i < 2; i++) {
            BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            for (int p = 0; p < 32 * 32; p++) {
                image.setRGB(p % 32, p / 32, random.nextInt(1 << 24));
            }
            ImageIO.write(image, "png", dir.resolve(i + ".png").toFile());
            lines.add(i + ".png " + i);
            json.append(i == 0 ? "" : ", ").append("\"").append(i).append(".png\": ").append(i);
        }
        json.append('}');
        for (String split : List.of("train800", "val200", "train800val200", "test")) {
            Files.write(dir.resolve(split + ".txt"), lines);
        }
        for (String split : List.of("train", "val", "test")) {
            Files.writeString(dir.resolve(split + ".json"), format.equals("fgvc") && split.equals("val") ? "{\"0.png\": 0}" : json.toString());
        }
        return root;
    }
}
