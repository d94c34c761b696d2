package org.peft4j.methods.mosa;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.testing.TinyModel;

/** The example experiments {@code examples/mosa-*.conf} and {@code mosl*.conf} use only valid MoSA / MoSL options. */
class ExamplesTest {

    private static List<Path> examples() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(Path.of("..", "examples"), "mos[al]*.conf")) {
            stream.forEach(files::add);
        }
        return files;
    }

    private static MixtureTuner tuner(Path file) {
        Config experiment = ConfigFactory.parseFile(file.toFile()).resolve();
        Config method = experiment.getConfig("method");
        String id = method.getString("id");
        Config reference = ConfigFactory.defaultReference().getConfig("peft4j.methods." + id);
        Config options = method.withoutPath("id");
        assertThat(reference.root().keySet()).as(file.toString()).containsAll(options.root().keySet());
        PeftMethod created = id.equals("mosa") ? new MosaMethod() : new MoslMethod();
        MethodContext context = new MethodContext(options.withFallback(reference), file.toString(), 1,
                experiment.getString("data.name"), 10);
        return (MixtureTuner) created.create(context);
    }

    @Test
    void everyExampleIsValidAndAttaches() throws IOException {
        List<Path> files = examples();
        assertThat(files).extracting(p -> p.getFileName().toString()).contains("mosa-paper.conf",
                "mosa-reference-code.conf", "mosa-ablation-split.conf", "mosa-ablation-experts.conf",
                "mosa-ablation-merge.conf", "mosa-ablation-align.conf", "mosl.conf");
        for (Path file : files) {
            Config experiment = ConfigFactory.parseFile(file.toFile()).resolve();
            assertThat(experiment.getString("experiment")).isEqualTo(file.getFileName().toString().replace(".conf", ""));
            MixtureTuner tuner = tuner(file);
            try (TinyModel model = new TinyModel(16, 4, 3, 1)) {
                tuner.attach(model);
                assertThat(tuner.adapters()).as(file.toString()).isNotEmpty();
            }
        }
    }

    @Test
    void thePaperAndReferenceCodeExamplesSayWhatTheyAre() {
        MixtureSettings paper = tuner(Path.of("..", "examples", "mosa-paper.conf")).settings();
        assertThat(paper.preset()).isEqualTo(MixtureSettings.Preset.PAPER);
        assertThat(paper.experts()).isEqualTo(2);
        assertThat(paper.merge()).isEqualTo(Merge.JIGSAW);
        assertThat(paper.stopGradient()).isFalse();
        MixtureSettings code = tuner(Path.of("..", "examples", "mosa-reference-code.conf")).settings();
        assertThat(code.preset()).isEqualTo(MixtureSettings.Preset.REFERENCE_CODE);
        assertThat(code.experts()).isEqualTo(4);
        assertThat(code.stopGradient()).isTrue();
        Config recipe = ConfigFactory.parseFile(Path.of("..", "examples", "mosa-reference-code.conf").toFile());
        assertThat(recipe.getDouble("train.eps")).isEqualTo(1e-6);
        assertThat(recipe.getDouble("train.lr")).isEqualTo(5e-3);
        assertThat(recipe.getDouble("train.warmup-epochs")).isEqualTo(10);
        assertThat(recipe.getDouble("train.weight-decay")).isEqualTo(0.01);
    }
}
