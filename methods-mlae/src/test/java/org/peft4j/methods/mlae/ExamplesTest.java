package org.peft4j.methods.mlae;

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
import org.peft4j.api.testing.TinyModel;

/** The example experiment files {@code examples/mlae-*.conf} use only MLAE's options, with valid values. */
class ExamplesTest {

    private static List<Path> examples() throws IOException {
        Path dir = Path.of("..", "examples");
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, "mlae-*.conf")) {
            stream.forEach(files::add);
        }
        return files;
    }

    @Test
    void everyExampleIsValidForMlae() throws IOException {
        List<Path> files = examples();
        assertThat(files).extracting(p -> p.getFileName().toString())
                .contains("mlae-stochastic.conf", "mlae-fixed.conf", "mlae-mixed.conf");
        Config reference = ConfigFactory.defaultReference().getConfig("peft4j.methods.mlae");
        Set<String> known = reference.root().keySet();
        for (Path file : files) {
            Config experiment = ConfigFactory.parseFile(file.toFile()).resolve();
            String stem = file.getFileName().toString().replace(".conf", "");
            assertThat(experiment.getString("experiment")).isEqualTo(stem);
            Config method = experiment.getConfig("method");
            assertThat(method.getString("id")).isEqualTo("mlae");
            Config options = method.withoutPath("id");
            assertThat(known).as(file.toString()).containsAll(options.root().keySet());
            MethodContext ctx = new MethodContext(options.withFallback(reference), file.toString(), 1,
                    experiment.getString("data.name"), 10);
            MlaeTuner tuner = (MlaeTuner) new MlaeMethod().create(ctx);
            assertThat(tuner.settings().masking().configName()).isEqualTo(method.getString("masking"));
            try (TinyModel model = new TinyModel(8, 4, 3, 1)) { // vit_micro_patch4_32 has 4 blocks
                tuner.attach(model);
                assertThat(tuner.adapters()).hasSize(4);
            }
        }
    }

    @Test
    void theVtabExampleTakesTable10FromTheDatasetName() throws IOException {
        Path file = Path.of("..", "examples", "mlae-vtab-preset.conf");
        Config experiment = ConfigFactory.parseFile(file.toFile()).resolve();
        Config options = experiment.getConfig("method").withoutPath("id")
                .withFallback(ConfigFactory.defaultReference().getConfig("peft4j.methods.mlae"));
        MlaeSettings s = MlaeSettings.from(new MethodContext(options, file.toString(), 1,
                experiment.getString("data.name"), 100));
        assertThat(s.dropout()).isEqualTo(0.7);
        assertThat(s.lambdaInit()).isEqualTo(2.0);
    }
}
