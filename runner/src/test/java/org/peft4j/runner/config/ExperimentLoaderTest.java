package org.peft4j.runner.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;
import org.peft4j.runner.registry.MethodRegistry;

class ExperimentLoaderTest {

    static MethodRegistry methods;
    @TempDir Path dir;

    @BeforeAll
    static void discover() {
        methods = MethodRegistry.discover(Path.of("no-plugins"));
    }

    private Experiment load(String hocon, String... overrides) throws Exception {
        Path file = dir.resolve("exp.conf");
        Files.writeString(file, hocon);
        return new ExperimentLoader(methods).load(file, List.of(overrides));
    }

    @Test
    void defaultsFillWhatTheFileLeavesOut() throws Exception {
        Experiment e = load("experiment = x\nmethod { id = lora, rank = 4 }\ntrain { epochs = 3 }\n");
        assertThat(e.train().epochs()).isEqualTo(3);
        assertThat(e.train().lr()).isEqualTo(1e-3);
        assertThat(e.methodSettings().getInt("rank")).isEqualTo(4);
        assertThat(e.methodSettings().getDouble("alpha")).isEqualTo(8);
        assertThat(e.render()).contains("rank=4").contains("epochs=3");
    }

    @Test
    void aMistypedKeyIsNamedWithFileLineAndSuggestion() {
        assertThatThrownBy(() -> load("experiment = x\ntrain {\n  lrr = 0.1\n}\n"))
                .isInstanceOf(PeftException.class)
                .hasMessageContaining("unknown key 'train.lrr'")
                .hasMessageContaining("exp.conf line 3")
                .hasMessageContaining("did you mean 'train.lr'");
    }

    @Test
    void aMistypedMethodOptionIsCheckedAgainstThatMethod() {
        assertThatThrownBy(() -> load("method { id = lora, rnak = 4 }\n"))
                .hasMessageContaining("unknown key 'method.rnak'")
                .hasMessageContaining("method lora")
                .hasMessageContaining("did you mean 'method.rank'");
    }

    @Test
    void wrongTypesAndRangesAreNamed() {
        assertThatThrownBy(() -> load("train { epochs = many }\n")).hasMessageContaining("epochs");
        assertThatThrownBy(() -> load("train { lr = -1 }\n")).hasMessageContaining("train.lr");
        assertThatThrownBy(() -> load("data { protocol = best }\n")).hasMessageContaining("data.protocol").hasMessageContaining("final");
    }

    @Test
    void overridesApplyAndAreValidatedToo() throws Exception {
        assertThat(load("train { epochs = 3 }\n", "train.epochs=7").train().epochs()).isEqualTo(7);
        assertThatThrownBy(() -> load("", "train.epochz=7")).hasMessageContaining("train.epochz").hasMessageContaining("--set");
    }

    @Test
    void unknownMethodAndMissingFile() {
        assertThatThrownBy(() -> load("method { id = lorra }\n")).hasMessageContaining("unknown method 'lorra'");
        assertThatThrownBy(() -> new ExperimentLoader(methods).load(dir.resolve("nope.conf"), List.of()))
                .hasMessageContaining("experiment file not found").hasMessageContaining("nope.conf");
    }
}
