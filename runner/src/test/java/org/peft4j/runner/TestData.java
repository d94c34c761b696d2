package org.peft4j.runner;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.ExperimentLoader;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;

/** Small datasets cut from the bundled fashion-1k, and experiments over them, for fast runner tests. */
public final class TestData {

    public static final Path FASHION = locate();

    private TestData() {}

    private static Path locate() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("data/fashion-1k");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("data/fashion-1k not found above " + Path.of("").toAbsolutePath());
    }

    /**
     * Writes {@code <root>/mini/} in the VTAB layout with the first {@code perClassTrain} train800 and {@code
     * perClassTest} test images of each class (images copied), and returns root.
     */
    public static Path miniVtab(Path root, int perClassTrain, int perClassTest) throws IOException {
        Path out = root.resolve("mini");
        Files.createDirectories(out);
        List<String> train = pick("train800", perClassTrain, out);
        List<String> test = pick("test", perClassTest, out);
        Files.write(out.resolve("train800.txt"), train);
        Files.write(out.resolve("val200.txt"), test);
        Files.write(out.resolve("train800val200.txt"), train);
        Files.write(out.resolve("test.txt"), test);
        return root;
    }

    private static List<String> pick(String split, int perClass, Path out) throws IOException {
        Map<Integer, Integer> counts = new HashMap<>();
        List<String> lines = new ArrayList<>();
        for (String line : Files.readAllLines(FASHION.resolve(split + ".txt"))) {
            int label = Integer.parseInt(line.substring(line.lastIndexOf(' ') + 1));
            if (counts.merge(label, 1, Integer::sum) <= perClass) {
                String rel = line.substring(0, line.lastIndexOf(' '));
                Path target = out.resolve(rel);
                Files.createDirectories(target.getParent());
                Files.copy(FASHION.resolve(rel), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                lines.add(line);
            }
        }
        return lines;
    }

    /**
     * A backbone with random weights and {@code method} attached with its defaults under {@code options} (HOCON),
     * for tests that need a model but no data.
     */
    public static PeftModel attach(MethodRegistry methods, String backbone, String method, String options, int classes,
            long seed, NDManager manager) {
        Engine.getInstance().setRandomSeed((int) seed);
        Backbone model = BackboneRegistry.load().build(BackboneOptions.of(backbone, classes), manager);
        Config settings = ConfigFactory.parseString(options).withFallback(methods.defaults(method)).resolve();
        return PeftModel.assemble(model, methods.get(method).create(new MethodContext(settings, "test.conf", seed, "t",
                classes)));
    }

    /** An experiment over {@code root/mini} with the given HOCON on top of quick defaults. */
    public static Experiment experiment(MethodRegistry methods, Path root, Path output, String hocon) {
        Config config = ConfigFactory.parseString(hocon).withFallback(ConfigFactory.parseString(
                "experiment = test\n"
                        + "output = \"" + output.toString().replace("\\", "/") + "\"\n"
                        + "progress = false\n"
                        + "data { root = \"" + root.toString().replace("\\", "/") + "\", name = mini, batch-size = 16 }\n"
                        + "train { epochs = 1, lr = 3e-3, weight-decay = 1e-4 }\n"));
        return new ExperimentLoader(methods).load(config, "test.conf", List.of());
    }
}
