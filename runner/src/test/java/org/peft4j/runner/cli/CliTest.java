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
        assertThat(r.out()).contains("test accuracy:").contains("trainable backbone parameters");
        assertThat(work.resolve("results/cli/mini/lora/default/final/seed-42/metrics.json")).exists();
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
        assertThat(lines.get(0)).startsWith("backbone,method,precision,attention,measure,batch,iterations,median_ms,images_per_s,"
                + "vs_first_method,peak_gpu_mib");
        List<String[]> rows = lines.stream().skip(1).map(l -> l.split(",")).toList();
        // 2 precisions x 2 kernels x 2 methods x (forward, train step)
        assertThat(rows).hasSize(16);
        assertThat(rows).allSatisfy(row -> {
            assertThat(Double.parseDouble(row[8])).as(String.join(",", row)).isPositive();
            assertThat(row[10]).isEqualTo("n/a"); // no GPU memory on the CPU
        });
        assertThat(rows.stream().map(row -> row[2] + "/" + row[3] + "/" + row[1] + "/" + row[4]).distinct()).hasSize(16)
                .contains("fp16/math/mlae/train_step", "fp32/sdpa/lora/forward_eval");
        assertThat(rows.stream().filter(row -> row[1].equals("lora")).map(row -> row[9])).containsOnly("1.0000");
        assertThat(r.out()).contains("cpu(), PyTorch");
        assertOneLineError(cli("bench", "--backbone", "vit_micro_patch4_32", "--method", "lora", "--set", "rnk=4"),
                "--set rnk", "not an option of method lora");
        assertOneLineError(cli("bench", "--backbone", "vit_micro_patch4_32", "--precision", "bf16"),
                "--precision", "expected one of [auto, fp32, tf32, fp16]", "bf16");
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
}
