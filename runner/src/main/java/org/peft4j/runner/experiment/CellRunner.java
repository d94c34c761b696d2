package org.peft4j.runner.experiment;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.inject.Inject;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.peft4j.api.PeftException;
import org.peft4j.api.TrainingPlan;
import org.peft4j.api.analysis.RankOneSimilarity;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.AdapterFile;
import org.peft4j.runner.results.CheckpointFile;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;
import org.peft4j.runner.results.Version;
import org.peft4j.runner.train.EpochStats;
import org.peft4j.runner.train.Evaluator;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.ProgressObserver;
import org.peft4j.runner.train.Trainer;

/**
 * Runs one cell: build the model, train (resuming from the cell's checkpoint if an earlier attempt stopped), evaluate
 * the merged model, write the results folder. A finished cell is skipped (its settings must match), unless forced.
 */
public final class CellRunner {

    /** What a cell produced (read back from its folder when it was skipped). */
    public record Outcome(CellSpec spec, RunDirectory directory, double accuracy, long trainableParameters,
            List<EpochStats> history, Map<String, Object> metrics, boolean skipped) {}

    private final ModelFactory models;
    private final TaskData data;

    @Inject
    public CellRunner(ModelFactory models, TaskData data) {
        this.models = models;
        this.data = data;
    }

    public Outcome run(CellSpec spec, MethodRegistry methods, boolean force, PrintWriter out) {
        Cell cell = spec.cell();
        Experiment experiment = spec.experiment();
        RunDirectory dir = new RunDirectory(cell.folder(experiment.run().output()));
        String rendered = experiment.render();
        Optional<CellStatus> status = CellStatus.read(dir.path());
        if (status.isPresent() && (force || failedBeforeAnyEpoch(status.get(), dir))) {
            dir.clear(); // nothing was trained there: a fixed setting (checkpoint, labels, ...) just runs
        } else if (status.isPresent()) {
            requireSameSettings(dir.path(), rendered);
            if (status.get().ok()) {
                out.println("skipped " + cell.label() + ": finished before (--force reruns it)");
                return finished(spec, dir);
            }
        }
        CellStatus.write(dir.path(), CellStatus.RUNNING, null);
        dir.writeConfig(rendered);
        try {
            Outcome outcome = train(spec, methods, dir, out);
            CellStatus.write(dir.path(), CellStatus.OK, null);
            return outcome;
        } catch (RuntimeException e) {
            CellStatus.write(dir.path(), CellStatus.FAILED, String.valueOf(e.getMessage()));
            throw e;
        }
    }

    private Outcome train(CellSpec spec, MethodRegistry methods, RunDirectory dir, PrintWriter out) {
        Cell cell = spec.cell();
        Experiment experiment = spec.experiment();
        long started = System.nanoTime();
        SplitList[] lists = TaskData.lists(experiment.data());
        try (NDManager manager = NDManager.newBaseManager(ModelFactory.device(experiment.run().device()))) {
            PeftModel model = models.assemble(experiment, methods, lists[0].numClasses(), cell.seed(), manager, out);
            TaskData.Splits splits = data.load(experiment.data(), lists, model.backbone().dataConfig());
            long params = model.trainableBackboneParameters();
            out.println("classes: " + lists[0].labels().describe());
            out.printf(Locale.ROOT, "%s: %s on %s (%d train / %d %s images): %,d trainable backbone parameters (%.4f M)%n",
                    cell.label(), experiment.methodId(), model.backbone().name(), splits.train().size(), splits.eval().size(),
                    splits.eval().name(), params, params / 1e6);
            Map<String, Object> metrics = baseMetrics(spec, model, params, splits.numClasses());
            metrics.put("label_map", lists[0].labels().asMap());
            CheckpointFile checkpoint = new CheckpointFile(dir.path());
            if (Files.isRegularFile(checkpoint.path())) {
                out.println("resuming " + cell.label() + " from its last finished epoch (" + checkpoint.path() + ")");
            }
            AdapterFile.Header header = adapterHeader(spec, methods, model, splits.numClasses());
            List<Map<String, Object>> epochs = new ArrayList<>();
            ProgressObserver observer = new ProgressObserver(progressBar(experiment), out);
            Trainer trainer = new Trainer(model, experiment.train(), experiment.data().batchSize(),
                    experiment.data().evalBatchSize(), cell.seed(), observer, stats -> {
                        dir.log(ProgressObserver.format(stats.stage() + " epoch " + (stats.epoch() + 1), stats));
                        AdapterFile.write(dir.path().resolve(RunDirectory.ADAPTER), model, header);
                    }).withCheckpoints(checkpoint);
            TrainingPlan plan = model.tuner().plan(Trainer.basePlan(experiment.train()));
            List<String> notes = model.tuner().notes();
            for (String note : notes) {
                out.println(experiment.methodId() + ": " + note);
                dir.log(experiment.methodId() + ": " + note);
            }
            if (!notes.isEmpty()) {
                metrics.put("method_notes", notes);
            }
            List<EpochStats> history;
            try {
                history = trainer.fit(splits.train(), splits.eval(), plan);
            } catch (RuntimeException e) {
                List<EpochStats> done = checkpoint.latest(manager).map(s -> s.history()).orElse(List.of());
                done.forEach(s -> epochs.add(epochMetrics(s)));
                metrics.put("status", "failed");
                metrics.put("error", String.valueOf(e.getMessage()));
                metrics.put("epochs", epochs);
                dir.writeMetrics(metrics);
                throw new PeftException(e.getMessage() + (done.isEmpty() ? "" : "; the last good checkpoint (epoch "
                        + done.size() + ") is " + dir.path().resolve(RunDirectory.ADAPTER)), e);
            }
            history.forEach(s -> epochs.add(epochMetrics(s)));
            long evalStarted = System.nanoTime();
            Evaluator.Result result = Evaluator.evaluate(model, splits.eval(), experiment.data().evalBatchSize(), null, observer);
            double evalSeconds = (System.nanoTime() - evalStarted) / 1e9;
            AdapterFile.write(dir.path().resolve(RunDirectory.ADAPTER), model, header);
            metrics.put("status", "ok");
            metrics.put("epochs", epochs);
            metrics.put("eval", Map.of("split", result.split(), "images", result.images(), "accuracy", result.accuracy(),
                    "loss", result.loss()));
            metrics.put("accuracy", result.accuracy());
            Map<String, Object> timings = new LinkedHashMap<>();
            timings.put("train_seconds", history.stream().mapToDouble(EpochStats::seconds).sum());
            timings.put("eval_seconds", evalSeconds);
            timings.put("this_process_seconds", (System.nanoTime() - started) / 1e9);
            metrics.put("timings", timings);
            // the A.4 similarity for any adapter made of rank-1 components (LoRA, MLAE, ...), then the method's own
            Map<String, Object> analysis = new LinkedHashMap<>(RankOneSimilarity.analyse(model.backbone()));
            analysis.putAll(model.tuner().analysis(model.backbone()));
            if (!analysis.isEmpty()) {
                metrics.put("analysis", analysis);
            }
            dir.writeMetrics(metrics);
            checkpoint.delete();
            out.printf(Locale.ROOT, "%s accuracy: %.2f%% (%s) -> %s%n", result.split(), 100 * result.accuracy(), cell.label(),
                    dir.path());
            return new Outcome(spec, dir, result.accuracy(), params, history, metrics, false);
        }
    }

    /** A run that stopped on an error before finishing an epoch (e.g. a checkpoint that does not fit) left nothing to keep. */
    private static boolean failedBeforeAnyEpoch(CellStatus status, RunDirectory dir) {
        return status.failed() && !Files.isRegularFile(new CheckpointFile(dir.path()).path())
                && !Files.isRegularFile(dir.path().resolve(RunDirectory.ADAPTER));
    }

    /** A finished cell's outcome, from its metrics.json. */
    private static Outcome finished(CellSpec spec, RunDirectory dir) {
        JsonObject json = Json.read(dir.path().resolve(RunDirectory.METRICS));
        @SuppressWarnings("unchecked")
        Map<String, Object> metrics = Json.convert(json, Map.class);
        return new Outcome(spec, dir, json.get("accuracy").getAsDouble(), json.get("trainable_params").getAsLong(), List.of(),
                metrics, true);
    }

    /** Refuses, before any training, a cell folder that holds a run of other settings. */
    public static void requireSameSettings(CellSpec spec) {
        Path folder = spec.cell().folder(spec.experiment().run().output());
        if (CellStatus.read(folder).isPresent()) {
            requireSameSettings(folder, spec.experiment().render());
        }
    }

    private static void requireSameSettings(Path folder, String rendered) {
        var configFile = folder.resolve(RunDirectory.CONFIG);
        if (!Files.isRegularFile(configFile)) {
            return;
        }
        String stored;
        try {
            stored = Files.readString(configFile);
        } catch (java.io.IOException e) {
            throw new PeftException("cannot read " + configFile + ": " + e.getMessage());
        }
        List<String> diff = CellSpec.differences(CellSpec.identity(stored), CellSpec.identity(rendered));
        if (!diff.isEmpty()) {
            throw new PeftException(folder + " holds a run of other settings (" + String.join("; ", diff.subList(0,
                    Math.min(3, diff.size()))) + (diff.size() > 3 ? "; ..." : "") + "); use another experiment name, or --force to replace it");
        }
    }

    private static boolean progressBar(Experiment experiment) {
        return switch (experiment.run().progress()) {
            case "true" -> true;
            case "false" -> false;
            default -> System.console() != null;
        };
    }

    private static AdapterFile.Header adapterHeader(CellSpec spec, MethodRegistry methods, PeftModel model, int numClasses) {
        Experiment e = spec.experiment();
        return new AdapterFile.Header(e.methodId(), methods.get(e.methodId()).version(), model.backbone().name(), numClasses, e.data().name(), spec.cell().seed(),
                methodSettingsJson(e), Version.peft4j());
    }

    /** The method's resolved settings as canonical JSON (keys sorted), as adapter files record them. */
    public static String methodSettingsJson(Experiment e) {
        return e.methodSettings().root().render(ConfigRenderOptions.concise());
    }

    private static Map<String, Object> baseMetrics(CellSpec spec, PeftModel model, long params, int numClasses) {
        Experiment e = spec.experiment();
        Cell cell = spec.cell();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("experiment", cell.experiment());
        m.put("dataset", cell.dataset());
        m.put("protocol", cell.protocol());
        m.put("method", cell.method());
        m.put("method_id", e.methodId());
        m.put("point", cell.point());
        m.put("sweep", spec.sweep());
        m.put("backbone", model.backbone().name());
        m.put("seed", cell.seed());
        m.put("trainable_params", params);
        m.put("trainable_params_m", params / 1e6);
        m.put("num_classes", numClasses);
        m.put("peft4j_version", Version.peft4j());
        m.put("config", JsonParser.parseString(ConfigFactory.parseString(e.render()).root()
                .render(ConfigRenderOptions.concise())));
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
