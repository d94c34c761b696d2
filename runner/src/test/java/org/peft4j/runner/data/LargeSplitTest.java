package org.peft4j.runner.data;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.runner.TestData;
import org.peft4j.runner.cli.Peft4jCli;

/**
 * A 20,000-image evaluation split runs in a JVM whose heap is smaller than the split decoded (it streams, and caches
 * only within data.cache-mb), and scores exactly what the in-memory path scores on the 500 distinct images the split
 * repeats 40 times: the same accuracy and the same mean loss (a continuous number, so one image paired with the
 * wrong label or a wrong crop would show). Images are 24 px on the micro ViT to keep 20,000 forward passes cheap.
 * Running out of heap is one line naming the settings to change.
 */
class LargeSplitTest {

    private static final int DISTINCT = 500;
    private static final int COPIES = 40;
    private static final int SIDE = 24;
    /** Below 20,000 images x 24 x 24 x 3 bytes (35 MB): the old decode-everything-first path dies here. */
    private static final int HEAP_MB = 24;

    @TempDir static Path root;

    @BeforeAll
    static void data() throws IOException {
        List<String> train = new ArrayList<>();
        List<String> tests = Files.readAllLines(TestData.FASHION.resolve("test.txt")).subList(0, DISTINCT);
        for (String line : Files.readAllLines(TestData.FASHION.resolve("train800val200.txt")).subList(0, 200)) {
            train.add(line);
        }
        List<String> big = new ArrayList<>();
        for (String name : List.of("big", "subset")) {
            Path dir = Files.createDirectories(root.resolve(name));
            for (String line : train) {
                copy(line.substring(0, line.lastIndexOf(' ')), dir, line.substring(0, line.lastIndexOf(' ')));
            }
            Files.write(dir.resolve("train800val200.txt"), train);
        }
        List<String> subset = new ArrayList<>();
        for (int i = 0; i < DISTINCT; i++) {
            String line = tests.get(i);
            String image = line.substring(0, line.lastIndexOf(' '));
            String label = line.substring(line.lastIndexOf(' ') + 1);
            copy(image, root.resolve("subset"), image);
            subset.add(image + " " + label);
            for (int k = 0; k < COPIES; k++) {
                String copy = "images/test/" + k + "/" + i + ".png";
                copy(image, root.resolve("big"), copy);
                big.add(copy + " " + label);
            }
        }
        Files.write(root.resolve("subset/test.txt"), subset);
        Files.write(root.resolve("big/test.txt"), big);
    }

    private static void copy(String from, Path dir, String to) throws IOException {
        Path target = dir.resolve(to);
        Files.createDirectories(target.getParent());
        Files.copy(TestData.FASHION.resolve(from), target, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Path experiment(String name, String extra) throws IOException {
        Path file = root.resolve(name + ".conf");
        Path checkpoint = TestData.FASHION.resolveSibling("pretrained/vit_micro_patch4_32_fmnist_rotation.safetensors");
        Files.writeString(file, "experiment = large\noutput = \"" + root.resolve("results") + "\"\nprogress = false\n"
                + "backbone.checkpoint = \"" + checkpoint + "\"\n"
                + "backbone.image-size = " + SIDE + "\n"
                + "data { root = \"" + root + "\", name = " + name + ", batch-size = 50, eval-batch-size = 250, cache-mb = 4 }\n"
                + "train { epochs = 1, lr = 1e-2 }\nmethod.id = linear\n" + extra);
        return file;
    }

    private static JsonObject metrics(String dataset) throws IOException {
        Path file = root.resolve("results/large/" + dataset + "/linear/default/final/seed-42/metrics.json");
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    /** Runs the CLI in a fresh JVM with a small heap; returns {exit code, stdout + stderr}. */
    private static Object[] child(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + HEAP_MB + "m",
                "-DDJL_CACHE_DIR=" + System.getProperty("DJL_CACHE_DIR", Path.of(System.getProperty("user.home"), ".djl.ai").toString()),
                "-cp", System.getProperty("java.class.path"), Peft4jCli.class.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).isTrue();
        return new Object[] {process.exitValue(), output};
    }

    @Test
    void twentyThousandImagesEvaluateInASmallHeapWithTheInMemoryAccuracy() throws Exception {
        assertThat((long) DISTINCT * COPIES * SIDE * SIDE * 3).isGreaterThan((long) HEAP_MB << 20);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Peft4jCli.execute(new String[] {"run", experiment("subset", "").toString()}, new PrintWriter(out, true),
                new PrintWriter(err, true));
        assertThat(code).as(err.toString()).isZero();
        JsonObject subset = metrics("subset");
        assertThat(subset.getAsJsonObject("eval").get("images").getAsInt()).isEqualTo(DISTINCT);

        Object[] big = child("run", experiment("big", "").toString());
        assertThat(big[0]).as((String) big[1]).isEqualTo(0);
        JsonObject streamed = metrics("big");
        assertThat(streamed.getAsJsonObject("eval").get("images").getAsInt()).isEqualTo(DISTINCT * COPIES);
        assertThat(streamed.get("accuracy").getAsDouble()).isEqualTo(subset.get("accuracy").getAsDouble());
        assertThat(streamed.getAsJsonObject("eval").get("loss").getAsDouble())
                .isCloseTo(subset.getAsJsonObject("eval").get("loss").getAsDouble(), org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void runningOutOfHeapIsOneLineNamingTheSettings() throws Exception {
        // one evaluation batch of all 20,000 images (35 MB of bytes) does not fit a 24 MB heap whatever the cache does
        Object[] r = child("run", experiment("big", "experiment = oom\ntrain.epochs = 0\ndata.eval-batch-size = 20000\n").toString());
        assertThat(r[0]).isEqualTo(1);
        List<String> errors = ((String) r[1]).lines().filter(l -> l.startsWith("error") || l.contains("Exception")
                || l.contains("OutOfMemoryError")).toList();
        assertThat(errors).as((String) r[1]).hasSize(1);
        assertThat(errors.get(0)).startsWith("error: out of memory: the Java heap (").contains("data.cache-mb")
                .contains("data.eval-batch-size").contains("-Xmx");
    }
}
