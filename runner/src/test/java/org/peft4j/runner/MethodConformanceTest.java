package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingStage;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.cli.Peft4jCli;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.AdapterFile;
import org.peft4j.runner.train.AdamW;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.Trainer;
import org.peft4j.runner.train.TrainingStep;

/**
 * The checks every registered method passes with its defaults; a method joins by being registered (baselines, MLAE,
 * MoSA, DMLoRA, plugins). They run on a micro ViT with layer scale, average pooling and drop path, so where an
 * adapter sits and which layers are stochastic matter:
 *
 * <ul>
 *   <li>one training step changes only the method's own parameters (its adapters', or the backbone parameters it
 *       unfroze) and the head; every other parameter stays bit-identical;
 *   <li>merging and unmerging restores the outputs exactly, and the merged model computes what the unmerged one
 *       does;
 *   <li>an adapter file written from a trained model and read into a fresh one reproduces its outputs exactly;
 *   <li>on ViT-B, the count {@code peft4j describe} prints is the count a run records, and for the methods of the
 *       papers' tables it is the number those tables give.
 * </ul>
 */
class MethodConformanceTest {

    private static final String MICRO = "vit_micro_avg_ls_patch4_32";
    private static final String VIT_B = "vit_base_patch16_224";
    private static final Pattern DESCRIBED = Pattern.compile("trainable backbone parameters with these defaults on "
            + VIT_B + ": ([0-9,]+)");

    /**
     * Trainable backbone parameters with the defaults on ViT-B/16 (head excluded), as the papers count them:
     * LoRA r 8 on q and v (0.29M), NOAH's Adapter at bottleneck 8 (0.16M), AdaptFormer at 64 (1.19M), BitFit with
     * norm biases (0.10M), VPT-deep with 10 prompts (0.09M), SSF (0.21M; the papers' 0.24M includes the head), MLAE
     * r 8 on qkv with one lambda per expert (0.30M).
     */
    private static final Map<String, Long> PUBLISHED = Map.of(
            "full", 85_798_656L,
            "linear", 0L,
            "lora", 294_912L,
            "adapter", 156_768L,
            "adaptformer", 1_189_632L,
            "bitfit", 102_912L,
            "vpt", 92_160L,
            "ssf", 205_824L,
            "mlae", 295_008L);

    @TempDir static Path data;
    @TempDir Path out;
    static MethodRegistry methods;

    @BeforeAll
    static void discover() throws Exception {
        TestData.miniVtab(data, 1, 1);
        methods = MethodRegistry.discover(data.resolve("no-plugins"));
    }

    static Stream<String> methodIds() {
        return MethodRegistry.discover(Path.of("no-plugins")).ids().stream();
    }

    /** The micro ViT (drop path 0.1) with the method attached with its defaults; same seed, same model. */
    private static PeftModel assemble(String id, long seed, NDManager manager) {
        Engine.getInstance().setRandomSeed((int) seed);
        var backbone = BackboneRegistry.load().build(new BackboneOptions(MICRO, 10, 0, 0.1, 3), manager);
        MethodContext context = new MethodContext(methods.defaults(id), "test.conf", seed, "mini", 10);
        return PeftModel.assemble(backbone, methods.get(id).create(context));
    }

    /** Moves every trainable tensor off its start (as after training), so merges and files have something to carry. */
    private static void perturb(PeftModel model, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        for (Parameter p : model.trainable().values()) {
            NDArray noise = model.backbone().manager().randomNormal(0f, 0.05f, p.getShape(), DataType.FLOAT32);
            p.getArray().addi(noise);
            noise.close();
        }
    }

    private static NDArray images(NDManager manager, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        return manager.randomNormal(new Shape(2, 3, 32, 32));
    }

    private static Set<Parameter> identitySet() {
        return Collections.newSetFromMap(new IdentityHashMap<>());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("methodIds")
    void aStepChangesOnlyTheMethodsOwnParametersAndTheHead(String id) {
        try (NDManager manager = NDManager.newBaseManager()) {
            PeftModel model = assemble(id, 5, manager);
            Set<Parameter> adapters = identitySet();
            for (AdapterSite site : model.backbone().sites()) {
                for (Adapter adapter : site.adapters()) {
                    adapters.addAll(adapter.getParameters().values());
                }
            }
            Set<Parameter> unfrozen = identitySet();
            model.backbone().backboneParameters().values().stream().filter(Parameter::requiresGradient).forEach(unfrozen::add);
            if (!adapters.isEmpty()) {
                assertThat(unfrozen).as("%s attaches adapters and leaves the backbone frozen", id).isEmpty();
            }
            Set<Parameter> head = identitySet();
            head.addAll(model.backbone().headParameters().values());

            Map<String, NDArray> before = new LinkedHashMap<>();
            model.parameters().forEach((k, p) -> before.put(k, p.getArray().duplicate()));
            oneStep(model, manager);

            List<String> strangers = new ArrayList<>();
            List<String> changedOwn = new ArrayList<>();
            model.parameters().forEach((k, p) -> {
                boolean changed = !p.getArray().contentEquals(before.get(k));
                boolean own = adapters.contains(p) || unfrozen.contains(p);
                if (changed && !own && !head.contains(p)) {
                    strangers.add(k);
                }
                if (changed && own) {
                    changedOwn.add(k);
                }
            });
            assertThat(strangers).as("%s changed parameters that are not its own", id).isEmpty();
            if (model.trainableBackboneParameters() > 0) {
                assertThat(changedOwn).as("%s trains something besides the head", id).isNotEmpty();
            }
        }
    }

    /** The first stage's start and one optimisation step, as the trainer runs them. */
    private static void oneStep(PeftModel model, NDManager manager) {
        var train = new org.peft4j.runner.config.Settings.Train(1, 1e-2, 0, 0, 0, 0, 0, 0.9, 0.999, 1e-8, 0);
        TrainingStage stage = model.tuner().plan(Trainer.basePlan(train)).stages().get(0);
        model.hooks().onStageStart(stage, model.backbone());
        model.hooks().onEpochStart(stage.name(), 0);
        AdamW optimizer = new AdamW(model.trainable(), 0, 0.9, 0.999, 1e-8, 0);
        TrainingStep step = new TrainingStep(model, optimizer, 0);
        try (NDManager scope = step.openScope()) {
            NDArray x = images(scope, 6);
            NDArray labels = scope.create(new float[] {1, 7});
            step.run(new StepContext(stage.name(), 0, 0, new Random(3), scope), x, labels, 1e-2, loss -> "loss " + loss);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("methodIds")
    void mergeThenUnmergeRestoresTheOutputsExactly(String id) {
        try (NDManager manager = NDManager.newBaseManager()) {
            PeftModel model = assemble(id, 7, manager);
            perturb(model, 8);
            NDArray x = images(manager, 9);
            NDArray unmerged = model.logits(x, false);
            model.merge();
            NDArray merged = model.logits(x, false);
            model.unmerge();
            NDArray after = model.logits(x, false);
            assertThat(merged.sub(unmerged).abs().max().getFloat()).as("%s merged vs unmerged", id).isLessThanOrEqualTo(1e-5f);
            assertThat(after.contentEquals(unmerged)).as("%s after unmerge", id).isTrue();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("methodIds")
    void anAdapterFileReadIntoAFreshModelReproducesItsOutputs(String id) {
        Path file = out.resolve(id + ".safetensors");
        try (NDManager manager = NDManager.newBaseManager()) {
            PeftModel trained = assemble(id, 11, manager);
            perturb(trained, 12);
            NDArray x = images(manager, 13);
            NDArray expected = trained.logits(x, false);
            AdapterFile.write(file, trained, new AdapterFile.Header(id, "test", MICRO, 10, "mini", 11, "{}", "test"));

            PeftModel fresh = assemble(id, 11, manager); // the same backbone; its adapters start elsewhere
            perturb(fresh, 14);
            boolean differs = !fresh.logits(x, false).contentEquals(expected);
            assertThat(AdapterFile.load(file, fresh, id, null).method()).isEqualTo(id);
            assertThat(fresh.logits(x, false).contentEquals(expected)).as("%s after reading its adapter file", id).isTrue();
            if (fresh.trainableBackboneParameters() > 0) {
                assertThat(differs).as("%s: the fresh model differed before reading", id).isTrue();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("methodIds")
    void describeOnVitBasePrintsTheCountARunRecords(String id) {
        StringWriter printed = new StringWriter();
        int code = Peft4jCli.execute(new String[] {"describe", id}, new PrintWriter(printed, true), new PrintWriter(new StringWriter()));
        assertThat(code).isZero();
        Matcher m = DESCRIBED.matcher(printed.toString());
        assertThat(m.find()).as(printed.toString()).isTrue();
        long described = Long.parseLong(m.group(1).replace(",", ""));

        Experiment e = TestData.experiment(methods, data, out, "method { id = " + id + " }\nbackbone.name = " + VIT_B);
        try (NDManager manager = NDManager.newBaseManager()) {
            PeftModel model = new ModelFactory(BackboneRegistry.load()).assemble(e, methods, 10, 1, manager,
                    new PrintWriter(new StringWriter()));
            assertThat(described).as(id).isEqualTo(model.trainableBackboneParameters());
        }
        if (PUBLISHED.containsKey(id)) {
            assertThat(described).as(id).isEqualTo(PUBLISHED.get(id));
        }
    }
}
