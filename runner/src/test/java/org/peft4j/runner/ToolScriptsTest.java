package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every script under tools/ answers --help, and the GPU scripts name a missing argument instead of failing later. */
class ToolScriptsTest {

    private static final Path ROOT = TestData.FASHION.getParent().getParent();

    private record Result(int exit, String output) {}

    private static Result bash(String... args) throws IOException, InterruptedException {
        List<String> command = Stream.concat(Stream.of("bash"), Stream.of(args)).toList();
        Process p = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    @Test
    void everyScriptAnswersHelp() throws Exception {
        List<Path> scripts;
        try (Stream<Path> files = Files.walk(ROOT.resolve("tools"))) {
            scripts = files.filter(f -> f.toString().endsWith(".sh")).sorted().toList();
        }
        assertThat(scripts).extracting(s -> s.getFileName().toString())
                .contains("build-djl-jni.sh", "make-gpu-bundle.sh", "peft4j-own-torch.sh", "gpu-figures.sh", "local-slurm.sh");
        for (Path script : scripts) {
            Result r = bash(ROOT.relativize(script).toString(), "--help");
            assertThat(r.exit()).as(script + " --help: " + r.output()).isZero();
            assertThat(r.output()).as(script.toString()).isNotBlank();
        }
    }

    @Test
    void gpuScriptsNameWhatIsMissing() throws Exception {
        Result jni = bash("tools/gpu/build-djl-jni.sh", "--torch", "/nonexistent");
        assertThat(jni.exit()).isEqualTo(2);
        assertThat(jni.output()).contains("--djl-src is required");

        Result bundle = bash("tools/gpu/make-gpu-bundle.sh", "--out", "/tmp/x");
        assertThat(bundle.exit()).isEqualTo(2);
        assertThat(bundle.output()).contains("--djl-src and --out are required");

        Result unknown = bash("tools/gpu/build-djl-jni.sh", "--cude");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.output()).contains("unknown argument '--cude'");
    }
}
