package org.peft4j.methods.dmlora;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.peft4j.api.MethodContext;
import org.peft4j.api.TrainingPlan;
import org.peft4j.api.TrainingStage;
import org.peft4j.api.testing.TinyModel;

/** The example experiments {@code examples/dmlora*.conf} use only DMLoRA's options, with valid values, as named. */
class ExamplesTest {

    private static List<Path> examples() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(Path.of("..", "examples"), "dmlora*.conf")) {
            stream.forEach(files::add);
        }
        return files;
    }

    private static DmloraTuner tuner(Path file, Config experiment) {
        Config reference = ConfigFactory.defaultReference().getConfig("peft4j.methods.dmlora");
        Config options = experiment.getConfig("method").withoutPath("id");
        assertThat(reference.root().keySet()).as(file.toString()).containsAll(options.root().keySet());
        MethodContext ctx = new MethodContext(options.withFallback(reference), file.toString(), 1,
                experiment.getString("data.name"), 10);
        return (DmloraTuner) new DmloraMethod().create(ctx);
    }

    @Test
    void everyExampleIsValidAndDoesWhatItsNameSays() throws IOException {
        List<Path> files = examples();
        assertThat(files).extracting(p -> p.getFileName().toString()).contains("dmlora.conf", "dmlora-vtab.conf",
                "dmlora-scheme-a.conf", "dmlora-scheme-b.conf", "dmlora-scheme-c.conf", "dmlora-scheme-d.conf",
                "dmlora-scheme-e.conf");
        for (Path file : files) {
            Config experiment = ConfigFactory.parseFile(file.toFile()).resolve();
            String stem = file.getFileName().toString().replace(".conf", "");
            assertThat(experiment.getString("experiment")).isEqualTo(stem);
            assertThat(experiment.getString("method.id")).isEqualTo("dmlora");
            DmloraTuner tuner = tuner(file, experiment);
            if (stem.startsWith("dmlora-scheme-")) {
                assertThat(tuner.settings().scheme().name()).isEqualToIgnoringCase(stem.substring(stem.length() - 1));
                assertThat(tuner.settings().scaleStage()).as("Table 4 runs without the learned scalar").isFalse();
            } else {
                assertThat(tuner.settings().scheme()).isEqualTo(Scheme.E);
                assertThat(tuner.settings().scaleStage()).isTrue();
            }
            try (TinyModel model = new TinyModel(8, 4, 3, 1)) { // vit_micro_patch4_32 has 4 blocks
                tuner.attach(model);
                assertThat(tuner.adapters()).hasSize(8);
                TrainingPlan plan = tuner.plan(TrainingPlan.of(new TrainingStage("main",
                        experiment.getInt("train.epochs"), 1e-3, 0, 0)));
                assertThat(plan.stages()).hasSize(tuner.settings().scaleStage() ? 2 : 1);
            }
        }
    }

    @Test
    void theVtabExamplePicksSlowPruningForCifarAndTheMainExampleHalvesThreeTimes() throws IOException {
        Path vtab = Path.of("..", "examples", "dmlora-vtab.conf");
        DmloraTuner t = tuner(vtab, ConfigFactory.parseFile(vtab.toFile()).resolve());
        assertThat(t.settings().dropEvery()).isEqualTo(100);
        assertThat(t.settings().presetNote()).contains("Natural").contains("slow");
        assertThat(Set.of(t.settings().branches())).containsExactly(8);

        Path main = Path.of("..", "examples", "dmlora.conf");
        DmloraTuner m = tuner(main, ConfigFactory.parseFile(main.toFile()).resolve());
        try (TinyModel model = new TinyModel(8, 4, 3, 1)) {
            m.attach(model);
            m.plan(TrainingPlan.of(new TrainingStage("main", 40, 1e-3, 0, 0)));
            assertThat(m.notes()).anySatisfy(n -> assertThat(n)
                    .contains("8x8 from epoch 1, 4x4 from epoch 11, 2x2 from epoch 21, 1x1 from epoch 31"));
        }
    }
}
