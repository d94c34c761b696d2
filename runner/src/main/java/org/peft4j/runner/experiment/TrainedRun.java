package org.peft4j.runner.experiment;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.peft4j.api.PeftException;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.ExperimentLoader;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.AdapterFile;
import org.peft4j.runner.results.RunDirectory;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.Trainer;

/**
 * A trained run brought back: its experiment (from a cell's {@code config.conf} or any experiment file), the model
 * rebuilt from the backbone checkpoint and the method, brought to its end-of-training structure ({@link
 * Trainer#replayPlan}), and the adapter file loaded onto it after checking that it was written for this method,
 * backbone, task and settings.
 */
public record TrainedRun(Experiment experiment, PeftModel model, AdapterFile.Header header, SplitList[] lists) {

    /**
     * Opens a run. {@code cellOrConfig} is a cell folder (its {@code config.conf} and {@code adapter.safetensors}) or
     * an experiment file; {@code adapter} overrides the adapter file (required with an experiment file).
     *
     * @param evalSplit {@code test} or {@code val}: the split the returned lists evaluate on (null: the run's own)
     */
    public static TrainedRun open(Path cellOrConfig, Path adapter, List<String> overrides, String evalSplit,
            MethodRegistry methods, ModelFactory models, NDManager manager, PrintWriter out) {
        Path config;
        Path adapterFile;
        if (Files.isDirectory(cellOrConfig)) {
            config = cellOrConfig.resolve(RunDirectory.CONFIG);
            adapterFile = adapter != null ? adapter : cellOrConfig.resolve(RunDirectory.ADAPTER);
            if (!Files.isRegularFile(config)) {
                throw new PeftException(cellOrConfig + " is not a run folder (no " + RunDirectory.CONFIG + ")");
            }
        } else {
            config = cellOrConfig;
            if (adapter == null) {
                throw new PeftException("with an experiment file, name the adapter file with --adapter");
            }
            adapterFile = adapter;
        }
        AdapterFile.Header header = AdapterFile.header(adapterFile); // checks the file before any model is built
        List<String> all = new java.util.ArrayList<>(overrides);
        if (evalSplit != null) {
            all.add("data.protocol=" + switch (evalSplit) {
                case "test" -> "final";
                case "val" -> "tune";
                default -> throw new PeftException("--split must be test or val, got '" + evalSplit + "'");
            });
        }
        Experiment experiment = new ExperimentLoader(methods).load(config, all);
        SplitList[] lists = TaskData.lists(experiment.data());
        if (lists[0].numClasses() != header.numClasses()) {
            throw new PeftException(adapterFile + " has a " + header.numClasses() + "-class head; " + experiment.data().name()
                    + " has " + lists[0].numClasses() + " classes");
        }
        PeftModel model = models.assemble(experiment, methods, header.numClasses(), header.seed(), manager, out);
        Trainer.replayPlan(model, model.tuner().plan(Trainer.basePlan(experiment.train())));
        AdapterFile.load(adapterFile, model, experiment.methodId(), CellRunner.methodSettingsJson(experiment));
        return new TrainedRun(experiment, model, header, lists);
    }
}
