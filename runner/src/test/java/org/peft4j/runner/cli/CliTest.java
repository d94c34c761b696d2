package org.peft4j.runner.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.TestData;

class CliTest {

    @TempDir static Path root;
    @TempDir Path work;

    record Result(int code, String out, String err) {}

    @BeforeAll
    static void data() throws Exception {
        TestData.miniVtab(root, 3, 1);
    }

    static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Peft4jCli.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    private Path experiment(String extra) throws Exception {
        Path file = work.resolve("exp.conf");
        Files.writeString(file, "experiment = cli\noutput = \"" + work.resolve("results") + "\"\nprogress = false\n"
                + "data { root = \"" + root + "\", name = mini, batch-size = 8 }\ntrain { epochs = 1 }\n" + extra);
        return file;
    }

    private static void assertOneLineError(Result r, String... fragments) {
        assertThat(r.code()).isEqualTo(1);
        List<String> lines = r.err().lines().toList();
        assertThat(lines).as(r.err()).hasSize(1);
        assertThat(lines.get(0)).startsWith("error: ").contains(fragments).doesNotContain("Exception");
    }

    @Test
    void runTrainsEvaluatesAndReports() throws Exception {
        Result r = cli("run", experiment("method { id = lora, rank = 2 }").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("test accuracy:").contains("trainable backbone parameters")
                .contains("classes: 10 classes (labels 0..9 of " + root.resolve("mini/train800val200.txt") + ", used as they are)")
                .contains(ModelFactory.RANDOM_BACKBONE);
        JsonObject metrics = JsonParser.parseString(Files.readString(work.resolve("results/cli/mini/lora/default/final/seed-42/metrics.json")))
                .getAsJsonObject();
        assertThat(metrics.get("num_classes").getAsInt()).isEqualTo(10);
        assertThat(metrics.getAsJsonObject("label_map").keySet()).hasSize(10).contains("0", "9");
        assertThat(metrics.get("accuracy").getAsDouble()).isBetween(0.0, 1.0);
    }

    @Test
    void everythingCheckableIsCheckedTogetherBeforeAnyModelIsBuilt() throws Exception {
        Path copy = work.resolve("data");
        TestData.miniVtab(copy, 3, 1);
        List<String> lines = new ArrayList<>(Files.readAllLines(copy.resolve("mini/test.txt")));
        String first = lines.get(0);
        lines.set(0, first.substring(0, first.lastIndexOf(' ')) + " 10");
        Files.write(copy.resolve("mini/test.txt"), lines);
        Result r = cli("run", experiment("data.root = \"" + copy + "\"\nmethod { id = lora, rank = 0 }\n"
                + "backbone.checkpoint = \"" + work.resolve("nope.safetensors") + "\"\n").toString(), "--set", "train.epochs=2.5");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().lines().toList()).containsExactly("error: 4 problems:",
                "  train.epochs in --set train.epochs=2.5: expected a whole number, got 2.5",
                "  " + copy.resolve("mini/test.txt") + " line 1: label 10 is not a class the model can predict (its 10 classes"
                        + " are the labels 0..9 of " + copy.resolve("mini/train800val200.txt") + ")",
                "  method.rank in " + work.resolve("exp.conf") + " line 7: must be > 0, got 0",
                "  checkpoint not found: " + work.resolve("nope.safetensors"));
        assertThat(work.resolve("results")).doesNotExist();
    }

    @Test
    void devicesThisMachineCannotUseAreOneLine() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(ai.djl.engine.Engine.getInstance().hasCapability("CUDA"));
        assertOneLineError(cli("run", experiment("device = gpu").toString()), "device = gpu asks for a CUDA GPU",
                "CPU-only PyTorch", "this machine has", "README", "GPU section");
        assertOneLineError(cli("run", experiment("device = tpu").toString()), "device in " + work.resolve("exp.conf") + " line 6:",
                "'tpu' is not a device peft4j can use: cpu, gpu");
        assertThat(work.resolve("results")).doesNotExist();
    }

    @Test
    void aMissingPluginsFolderIsAnErrorAndAJarWithoutMethodsAWarning() throws Exception {
        assertOneLineError(cli("list-methods", "--plugins", work.resolve("nope").toString()), "--plugins " + work.resolve("nope"),
                "no such folder");
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        try (java.util.jar.JarOutputStream jar = new java.util.jar.JarOutputStream(Files.newOutputStream(plugins.resolve("lib.jar")))) {
            jar.putNextEntry(new java.util.jar.JarEntry("org/example/Util.txt"));
            jar.closeEntry();
        }
        Result r = cli("list-methods", "--plugins", plugins.toString());
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("lora");
        assertThat(r.err().lines().toList()).containsExactly("warning: plugin jar " + plugins.resolve("lib.jar") + " provides no"
                + " PEFT method (it has no META-INF/services/org.peft4j.api.PeftMethod entry); ignored unless another plugin"
                + " needs its classes");
    }

    @Test
    void missingDatasetFolder() throws Exception {
        assertOneLineError(cli("run", experiment("data.name = nothere").toString()), "dataset folder not found", "nothere");
    }

    @Test
    void missingImageNamesThePathAndTheListLine() throws Exception {
        Path copy = work.resolve("data");
        TestData.miniVtab(copy, 3, 1);
        String first = Files.readAllLines(copy.resolve("mini/train800val200.txt")).get(0);
        Path image = copy.resolve("mini").resolve(first.substring(0, first.lastIndexOf(' ')));
        Files.delete(image);
        Result r = cli("run", experiment("data.root = \"" + copy + "\"").toString());
        assertOneLineError(r, "image not found: " + image, "train800val200.txt line 1");
    }

    @Test
    void malformedListLine() throws Exception {
        Path copy = work.resolve("data");
        TestData.miniVtab(copy, 3, 1);
        List<String> lines = new ArrayList<>(Files.readAllLines(copy.resolve("mini/test.txt")));
        lines.set(2, "images/test/000001.png seven");
        Files.write(copy.resolve("mini/test.txt"), lines);
        assertOneLineError(cli("run", experiment("data.root = \"" + copy + "\"").toString()),
                "test.txt line 3", "expected '<relative image path> <label>'");
    }

    @Test
    void unknownMethodAndBackboneAndKey() throws Exception {
        assertOneLineError(cli("run", experiment("method.id = lorra").toString()), "unknown method 'lorra'", "lora");
        assertOneLineError(cli("run", experiment("backbone.name = vit_gigantic").toString()), "unknown backbone 'vit_gigantic'",
                "vit_micro_patch4_32");
        assertOneLineError(cli("run", experiment("train.epoch = 3").toString()), "unknown key 'train.epoch'", "exp.conf",
                "did you mean 'train.epochs'");
    }

    @Test
    void debugShowsTheStackTrace() throws Exception {
        Result r = cli("run", "--debug", experiment("data.name = nothere").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("dataset folder not found").contains("\tat org.peft4j");
    }

    @Test
    void benchTimesEveryMethodPrecisionAndKernelAndWritesCsv() throws Exception {
        Path csv = root.resolve("bench.csv");
        Result r = cli("bench", "--backbone", "vit_micro_patch4_32", "--method", "lora,mlae", "--set", "rank=4",
                "--train", "--batch", "2", "--iterations", "2", "--warmup", "1", "--device", "cpu",
                "--precision", "fp32,fp16", "--attention", "sdpa,math", "--csv", csv.toString());
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines.get(0)).startsWith("backbone,method,precision,attention,measure,batch,iterations,median_ms,host_ms,"
                + "images_per_s,vs_first_method,peak_gpu_mib");
        List<String[]> rows = lines.stream().skip(1).map(l -> l.split(",")).toList();
        // 2 precisions x 2 kernels x 2 methods x (forward, train step)
        assertThat(rows).hasSize(16);
        assertThat(rows).allSatisfy(row -> {
            assertThat(Double.parseDouble(row[9])).as(String.join(",", row)).isPositive();
            assertThat(row[11]).isEqualTo("n/a"); // no GPU memory on the CPU
            if (row[4].equals("train_step")) {
                // on the CPU ops run as they are called: the host's time is the step's, bar the final read
                double step = Double.parseDouble(row[7]);
                assertThat(Double.parseDouble(row[8])).as(String.join(",", row)).isPositive().isLessThanOrEqualTo(step);
            } else {
                assertThat(row[8]).isEqualTo("n/a");
            }
        });
        assertThat(rows.stream().map(row -> row[2] + "/" + row[3] + "/" + row[1] + "/" + row[4]).distinct()).hasSize(16)
                .contains("fp16/math/mlae/train_step", "fp32/sdpa/lora/forward_eval");
        assertThat(rows.stream().filter(row -> row[1].equals("lora")).map(row -> row[10])).containsOnly("1.0000");
        assertThat(r.out()).contains("cpu(), PyTorch");
        assertOneLineError(cli("bench", "--backbone", "vit_micro_patch4_32", "--method", "lora", "--set", "rnk=4"),
                "--set rnk", "not an option of method lora");
        assertOneLineError(cli("bench", "--backbone", "vit_micro_patch4_32", "--precision", "bf16"),
                "--precision", "expected one of [auto, fp32, tf32, fp16]", "bf16");
    }

    @Test
    void benchProfileWritesATraceAndATableOfOpsPerModel() throws Exception {
        Path dir = root.resolve("profile");
        Result r = cli("bench", "--backbone", "vit_micro_patch4_32", "--method", "lora", "--train", "--batch", "2",
                "--iterations", "1", "--warmup", "0", "--device", "cpu", "--profile", dir.toString());
        assertThat(r.code()).as(r.err()).isZero();
        Path table = dir.resolve("vit_micro_patch4_32-lora-fp32-sdpa.ops.txt");
        assertThat(r.out()).contains("profiled " + table);
        assertThat(Files.readString(table)).contains("aten::mm").contains("scaled_dot_product").contains("(all ops)");
        com.google.gson.JsonArray trace = com.google.gson.JsonParser.parseString(
                Files.readString(dir.resolve("vit_micro_patch4_32-lora-fp32-sdpa.trace.json"))).getAsJsonArray();
        assertThat(trace.size()).isGreaterThan(100);
        assertOneLineError(cli("bench", "--backbone", "vit_micro_patch4_32", "--profile", dir.toString()),
                "--profile profiles a training step: add --train");
    }

    @Test
    void listDevicesNamesTheEngineItsVersionAndTheCudaDevices() {
        Result r = cli("list-devices");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("engine: PyTorch " + ai.djl.engine.Engine.getInstance().getVersion())
                .contains("CUDA devices: none").contains("TF32 matmuls for fp32: off");
        assertThat(cli("describe-system", "--help").out()).contains("PYTORCH_LIBRARY_PATH");
    }

    @Test
    void listMethodsAndDescribe() {
        Result list = cli("list-methods");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains("lora").contains("full").contains("linear");
        Result describe = cli("describe", "lora", "--backbone", "vit_micro_patch4_32", "--classes", "10");
        assertThat(describe.code()).as(describe.err()).isZero();
        assertThat(describe.out()).contains("# Rank r of each low-rank update.").contains("rank = 8")
                .contains("targets = [\"attn.qkv:q\",\"attn.qkv:v\"]")
                .contains("trainable backbone parameters with these defaults on vit_micro_patch4_32: 8,192");
        assertThat(cli("list-backbones").out()).contains("vit_base_patch16_224").contains("swin_tiny_patch4_window7_224")
                .contains("convnext_base");
    }

    @Test
    void everySubcommandTakesHelpAndVersion() {
        List<String> commands = java.util.Arrays.stream(Peft4jCli.class.getAnnotation(picocli.CommandLine.Command.class).subcommands())
                .map(c -> c.getAnnotation(picocli.CommandLine.Command.class).name()).filter(n -> !n.equals("help")).toList();
        assertThat(commands).contains("run", "compare", "report", "status", "evaluate", "merge", "run-cell", "bench");
        for (String command : commands) {
            for (String flag : List.of("--help", "-h")) {
                Result r = cli(command, flag);
                assertThat(r.code()).as(command + " " + flag + ": " + r.err()).isZero();
                assertThat(r.out()).as(command + " " + flag).startsWith("Usage: peft4j " + command);
            }
            Result version = cli(command, "--version");
            assertThat(version.code()).as(command + " --version").isZero();
            // tests run from target/classes: no jar manifest, so the fallback says so instead of a made-up number
            assertThat(version.out().strip()).isEqualTo("peft4j " + ManifestVersion.UNPACKAGED);
        }
    }

    @Test
    void badCommandLineNumbersAreOneLineBeforeAnythingIsBuilt() throws Exception {
        assertOneLineError(cli("bench", "--backbone", "vit_micro_patch4_32", "--iterations", "0"), "--iterations 0: must be >= 1");
        assertOneLineError(cli("bench", "--backbone", "vit_micro_patch4_32", "--method", "lora", "--set", "rank=1.5"),
                "--set rank: expected a whole number, got 1.5");
        assertOneLineError(cli("describe", "lora", "--classes", "0"), "--classes 0: must be >= 1");
        assertOneLineError(cli("forward", "--backbone", "vit_micro_patch4_32", "--input", "x.npy", "--output", "y.npy",
                "--batch", "0"), "--batch 0: must be >= 1");
        Files.writeString(work.resolve("afile"), "");
        assertOneLineError(cli("run", experiment("").toString(), "--set", "output=\"" + work.resolve("afile") + "\""),
                "output in --set output=", "is a file; results go into a folder");
    }

    @Test
    void aRunThatFailedBeforeItsFirstEpochDoesNotBlockTheFixedRerun() throws Exception {
        Path wrong = work.resolve("convnext.safetensors");
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            ForwardCommandTest.saveTimmStyle(org.peft4j.backbone.BackboneRegistry.load().build(
                    org.peft4j.api.BackboneOptions.of("convnext_micro", 10), m), wrong);
        }
        Path file = experiment("method { id = lora, rank = 2 }");
        assertOneLineError(cli("run", file.toString(), "--set", "backbone.checkpoint=\"" + wrong + "\""),
                "lacks 54 tensors vit_micro_patch4_32 needs");
        Result fixed = cli("run", file.toString());
        assertThat(fixed.code()).as(fixed.err()).isZero();
        assertThat(fixed.out()).contains("test accuracy:");
    }
}
