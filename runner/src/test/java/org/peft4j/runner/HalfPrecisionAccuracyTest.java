package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.ExperimentLoader;
import org.peft4j.runner.experiment.CellRunner;
import org.peft4j.runner.registry.MethodRegistry;

/**
 * fp16 (frozen fp16 backbone, fp32 master adapters, loss scaling) trains as well as fp32: the README's LoRA run on
 * the bundled fashion-1k, both ways, ends within one percentage point (10 of the 1,000 test images). Slow on the CPU,
 * whose fp16 kernels are slow (about 3.5 minutes): run with {@code mvn verify -Pslow}.
 */
@Tag("slow")
class HalfPrecisionAccuracyTest {

    static final Path REPO = TestData.FASHION.getParent().getParent();

    @TempDir Path work;

    private double accuracy(String precision) {
        MethodRegistry methods = MethodRegistry.discover(work.resolve("no-plugins"));
        Path file = REPO.resolve("examples/lora-fashion.conf");
        List<String> overrides = List.of("compute.precision=" + precision, "progress=false",
                "output=\"" + work.resolve(precision) + "\"", "data.root=\"" + REPO.resolve("data") + "\"",
                "backbone.checkpoint=\"" + REPO.resolve("data/pretrained/vit_micro_patch4_32_fmnist_rotation.safetensors") + "\"");
        Experiment experiment = new ExperimentLoader(methods).load(ConfigFactory.parseFile(file.toFile()), file.toString(), overrides);
        List<CellRunner.Outcome> results = new ExperimentRunner(BackboneRegistry.load()).run(experiment, methods,
                new PrintWriter(new StringWriter(), true));
        assertThat(results).hasSize(1);
        return results.get(0).accuracy();
    }

    @Test
    void anFp16RunOnFashion1kReachesTheFp32Accuracy() {
        double fp32 = accuracy("fp32");
        double fp16 = accuracy("fp16");
        assertThat(fp32).as("the README's fp32 run").isGreaterThan(0.70);
        assertThat(fp16).as("fp16 against fp32 (%.4f)", fp32).isCloseTo(fp32, org.assertj.core.data.Offset.offset(0.01));
    }
}
