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

    @Test
    void fractionsWhereWholeNumbersBelongAreErrorsNotTruncations() {
        assertThatThrownBy(() -> load("method { id = lora\n  rank = 1.5 }\n")).isInstanceOf(PeftException.class)
                .hasMessage("method.rank in " + dir.resolve("exp.conf") + " line 2: expected a whole number, got 1.5");
        assertThatThrownBy(() -> load("train.epochs = 2.5\n"))
                .hasMessage("train.epochs in " + dir.resolve("exp.conf") + " line 1: expected a whole number, got 2.5");
        assertThatThrownBy(() -> load("seeds = [1, 2.5]\n")).hasMessageContaining("seeds in " + dir.resolve("exp.conf")
                + " line 1: seeds are whole numbers, got 2.5");
        assertThatThrownBy(() -> load("data.batch-size = \"12.5\"\n")).hasMessageContaining("expected a whole number, got 12.5");
        // real-valued options keep their fractions, also where the default happens to be whole (0.0)
        assertThat(assertLoads("train.warmup-epochs = 0.5\nmethod { id = lora, alpha = 16.5, dropout = 0.1 }\n")).isNotNull();
    }

    private Experiment assertLoads(String hocon) {
        try {
            return load(hocon);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void wrongTypedMethodOptionsAreNamedWithTheirOrigin() {
        assertThatThrownBy(() -> load("method { id = lora, rank = eight }\n"))
                .hasMessage("method.rank in " + dir.resolve("exp.conf") + " line 1: expected a number, got 'eight'");
        assertThatThrownBy(() -> load("method { id = lora }\n", "method.targets=qkv"))
                .hasMessage("method.targets in --set method.targets=qkv: expected a list [...], got 'qkv'");
        assertThatThrownBy(() -> load("method { id = mlae, adaptive = maybe }\n"))
                .hasMessageContaining("method.adaptive in ").hasMessageContaining("expected true or false, got 'maybe'");
    }

    @Test
    void everyProblemIsReportedAtOnceEachWithItsOwnSource() {
        assertThatThrownBy(() -> load("train {\n  epochs = 2.5\n  lrr = 1\n}\ndata.eval-batch-size = 0\nepochs = 3\n",
                "train.lr=-1", "method.rank=1.5"))
                .isInstanceOf(PeftException.class)
                .satisfies(e -> assertThat(((PeftException) e).problems()).containsExactlyInAnyOrder(
                        "train.epochs in " + dir.resolve("exp.conf") + " line 2: expected a whole number, got 2.5",
                        "unknown key 'train.lrr' in " + dir.resolve("exp.conf") + " line 3; did you mean 'train.lr'? Known keys:"
                                + " train.betas, train.epochs, train.eps, train.eval-every, train.grad-clip, train.label-smoothing,"
                                + " train.lr, train.min-lr, train.warmup-epochs, train.weight-decay",
                        "unknown key 'epochs' in " + dir.resolve("exp.conf") + " line 6; did you mean 'train.epochs'? Known keys:"
                                + " backbone, compare, compute, data, device, executor, experiment, method, output, progress, seed,"
                                + " seeds, train",
                        "method.rank in --set method.rank=1.5: expected a whole number, got 1.5",
                        "data.eval-batch-size in " + dir.resolve("exp.conf") + " line 5: must be > 0, got 0",
                        // min-lr is not blamed for the bad lr it is compared with
                        "train.lr in --set train.lr=-1: must be > 0, got -1.0"))
                .hasMessageStartingWith("6 problems:\n  ");
    }

    @Test
    void aBlockSetToAValueIsOneProblemNotACrash() {
        assertThatThrownBy(() -> load("data = 5\n")).isInstanceOf(PeftException.class)
                .hasMessage("data in " + dir.resolve("exp.conf") + " line 1: expected a block { ... }, got 5");
        assertThatThrownBy(() -> load("seed = abc\n")).hasMessage("seed in " + dir.resolve("exp.conf")
                + " line 1: expected a number, got 'abc'");
    }

    @Test
    void keysInTheWrongBlockGetTheRightOne() {
        assertThatThrownBy(() -> load("train { batch-size = 32 }\n")).hasMessageContaining("did you mean 'data.batch-size'");
        assertThatThrownBy(() -> load("method.id = lora\nrank = 4\n")).hasMessageContaining("did you mean 'method.rank'");
    }

    @Test
    void switchingTheMethodFromTheCommandLineNamesTheLeftoverOptions() {
        assertThatThrownBy(() -> load("method {\n  id = lora\n  rank = 8\n}\n", "method.id=linear"))
                .hasMessageStartingWith("unknown key 'method.rank' in " + dir.resolve("exp.conf") + " line 3: not an option of"
                        + " method linear (method.id = linear from --set method.id=linear); rank is an option of lora, mlae")
                .hasMessageEndingWith(". Known keys: method.frozen-eval");
    }
}
