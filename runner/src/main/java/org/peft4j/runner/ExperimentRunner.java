package org.peft4j.runner;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.DataConfig;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.TrainingPlan;
import org.peft4j.api.Tuner;
import org.peft4j.api.analysis.RankOneSimilarity;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.Settings;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.data.Transform;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.RunDirectory;
import org.peft4j.runner.train.EpochStats;
import org.peft4j.runner.train.Evaluator;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.ProgressObserver;
import org.peft4j.runner.train.Trainer;

/**
 * Runs one experiment: for each seed, build the backbone and load its checkpoint, attach the method, train
 * the plan, evaluate the merged model, and write the results folder.
 */
public final class ExperimentRunner {

    /** The outcome of one seed. */
    public record RunResult(long seed, RunDirectory directory, double accuracy, long trainableParameters,
            List<EpochStats> history, Map<String, Object> metrics) {}

    private final BackboneRegistry backbones;

    @Inject
    public ExperimentRunner(BackboneRegistry backbones) {
        this.backbones = backbones;
    }

    public List<RunResult> run(Experiment experiment, MethodRegistry methods, PrintStream out) {
        Settings.Data data = experiment.data();
        SplitList[] splits = DatasetLayouts.splits(data);
        ImageSet[] sets = null;
        List<RunResult> results = new ArrayList<>();
        for (long seed : experiment.run().seeds()) {
            Device device = device(experiment.run().device());
            try (NDManager manager = NDManager.newBaseManager(device)) {
                PeftModel model = assemble(experiment, methods, splits[0].numClasses(), seed, manager, out);
                if (sets == null) {
                    sets = images(splits, data, model.backbone().dataConfig());
                }
                results.add(runSeed(experiment, model, sets[0], sets[1], seed, out));
            }
        }
        return results;
    }

    /**
     * The experiment's backbone (checkpoint loaded) with its method attached, for one seed: the engine is
     * seeded first, so the same seed gives the same initialisation.
     */
    public PeftModel assemble(Experiment experiment, MethodRegistry methods, int numClasses, long seed, NDManager manager,
            PrintStream out) {
        Engine.getInstance().setRandomSeed((int) seed);
        Backbone backbone = buildBackbone(experiment.backbone(), numClasses, manager, out);
        Tuner tuner = methods.get(experiment.methodId()).create(new MethodContext(experiment.methodSettings(),
                experiment.source(), seed, experiment.data().name(), numClasses));
        return PeftModel.assemble(backbone, tuner);
    }

    /** The training and evaluation images of the splits, decoded and preprocessed for the backbone's data config. */
    public static ImageSet[] images(SplitList[] splits, Settings.Data data, DataConfig config) {
        Transform transform = transform(data, config);
        return new ImageSet[] {ImageSet.load(splits[0], transform), ImageSet.load(splits[1], transform)};
    }

    private RunResult runSeed(Experiment experiment, PeftModel model, ImageSet train, ImageSet eval, long seed, PrintStream out) {
        RunDirectory dir = new RunDirectory(experiment.run().output(), experiment.run().experiment(), experiment.data().name(),
                experiment.methodId(), seed);
        dir.writeConfig(experiment.render());
        long params = model.trainableBackboneParameters();
        out.printf(Locale.ROOT, "%s on %s, %s (%d train / %d %s images), seed %d: %,d trainable backbone parameters (%.4f M)%n",
                experiment.methodId(), model.backbone().name(), experiment.data().name(), train.size(), eval.size(), eval.name(),
                seed, params, params / 1e6);
        Map<String, Object> metrics = baseMetrics(experiment, model, seed, params);
        TrainingPlan plan = model.tuner().plan(Trainer.basePlan(experiment.train()));
        List<String> notes = model.tuner().notes();
        for (String note : notes) {
            out.println(experiment.methodId() + ": " + note);
            dir.log(experiment.methodId() + ": " + note);
        }
        if (!notes.isEmpty()) {
            metrics.put("method_notes", notes);
        }
        Map<String, String> meta = Map.of("method", experiment.methodId(), "backbone", model.backbone().name(),
                "dataset", experiment.data().name(), "seed", Long.toString(seed));
        List<Map<String, Object>> epochs = new ArrayList<>();
        boolean bar = switch (experiment.run().progress()) {
            case "true" -> true;
            case "false" -> false;
            default -> System.console() != null;
        };
        Trainer trainer = new Trainer(model, experiment.train(), experiment.data().batchSize(), experiment.data().evalBatchSize(),
                seed, new ProgressObserver(bar, out), stats -> {
                    epochs.add(epochMetrics(stats));
                    dir.log(ProgressObserver.format(stats.stage() + " epoch " + (stats.epoch() + 1), stats));
                    dir.writeAdapter(model.savedParameters(), meta);
                });
        List<EpochStats> history;
        try {
            history = trainer.fit(train, eval, plan);
        } catch (RuntimeException e) {
            metrics.put("status", "failed");
            metrics.put("error", String.valueOf(e.getMessage()));
            metrics.put("epochs", epochs);
            dir.writeMetrics(metrics);
            throw new PeftException(e.getMessage() + (epochs.isEmpty() ? "" : "; the last good checkpoint (epoch "
                    + epochs.size() + ") is " + dir.path().resolve(RunDirectory.ADAPTER)), e);
        }
        Evaluator.Result result = Evaluator.evaluate(model, eval, experiment.data().evalBatchSize());
        dir.writeAdapter(model.savedParameters(), meta);
        metrics.put("status", "ok");
        metrics.put("epochs", epochs);
        metrics.put("eval", Map.of("split", result.split(), "images", result.images(), "accuracy", result.accuracy(),
                "loss", result.loss()));
        metrics.put("accuracy", result.accuracy());
        // the A.4 similarity for any adapter made of rank-1 components (LoRA, MLAE, ...), then the method's own
        Map<String, Object> analysis = new LinkedHashMap<>(RankOneSimilarity.analyse(model.backbone()));
        analysis.putAll(model.tuner().analysis(model.backbone()));
        if (!analysis.isEmpty()) {
            metrics.put("analysis", analysis);
        }
        dir.writeMetrics(metrics);
        out.printf(Locale.ROOT, "%s accuracy: %.2f%% (%s, %s on %s, seed %d) -> %s%n", result.split(), 100 * result.accuracy(),
                experiment.data().name(), experiment.methodId(), model.backbone().name(), seed, dir.path());
        return new RunResult(seed, dir, result.accuracy(), params, history, metrics);
    }

    private Backbone buildBackbone(Settings.Backbone settings, int numClasses, NDManager manager, PrintStream out) {
        BackboneOptions options = new BackboneOptions(settings.name(), numClasses, settings.imageSize(), settings.dropPath(), 3);
        Backbone backbone = backbones.build(options, manager);
        settings.checkpoint().ifPresent(path -> {
            CheckpointLoader.Report report = CheckpointLoader.load(backbone, path, settings.strict());
            out.println("checkpoint " + path + ": " + report.summary());
        });
        return backbone;
    }

    static Transform transform(Settings.Data data, DataConfig config) {
        float[] mean = switch (data.normalize()) {
            case "imagenet" -> DataConfig.IMAGENET_MEAN;
            case "inception" -> DataConfig.INCEPTION_MEAN;
            default -> config.mean();
        };
        float[] std = switch (data.normalize()) {
            case "imagenet" -> DataConfig.IMAGENET_STD;
            case "inception" -> DataConfig.INCEPTION_STD;
            default -> config.std();
        };
        return new Transform(data.resize(), config.imageSize(), mean, std);
    }

    private static Device device(String name) {
        try {
            return Device.fromName(name);
        } catch (RuntimeException e) {
            throw new PeftException("device '" + name + "' is not valid: use cpu, gpu or gpu<n>");
        }
    }

    private static Map<String, Object> baseMetrics(Experiment experiment, PeftModel model, long seed, long params) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("experiment", experiment.run().experiment());
        m.put("dataset", experiment.data().name());
        m.put("protocol", experiment.data().protocol());
        m.put("method", experiment.methodId());
        m.put("backbone", model.backbone().name());
        m.put("seed", seed);
        m.put("trainable_params", params);
        m.put("trainable_params_m", params / 1e6);
        return m;
    }

    private static Map<String, Object> epochMetrics(EpochStats s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", s.stage());
        m.put("epoch", s.epoch() + 1);
        m.put("loss", s.loss());
        m.put("train_accuracy", s.accuracy());
        m.put("lr", s.lr());
        m.put("seconds", s.seconds());
        m.put("images_per_second", s.imagesPerSecond());
        if (s.eval() != null) {
            m.put("eval_accuracy", s.eval().accuracy());
        }
        return m;
    }
}
