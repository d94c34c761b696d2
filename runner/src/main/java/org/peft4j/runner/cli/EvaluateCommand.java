package org.peft4j.runner.cli;

import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TaskData;
import org.peft4j.runner.experiment.TrainedRun;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.Evaluator;
import org.peft4j.runner.train.ProgressObserver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code peft4j evaluate <run folder>}: reload an adapter file onto its backbone and method, and score it on a split. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Load a run's adapter.safetensors (or any adapter file with --adapter) onto its backbone checkpoint and "
                + "method, and report the merged model's accuracy on a split; optionally write every prediction as CSV.")
public final class EvaluateCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Mixin TrainedRunOptions trained;

    @Option(names = "--split", paramLabel = "SPLIT", description = "test or val (default: the split the run was scored on).")
    String split;

    @Option(names = "--predictions", paramLabel = "FILE", description = "Write image,label,predicted,confidence as CSV.")
    Path predictions;

    private final MethodRegistries registries;
    private final ModelFactory models;

    @Inject
    EvaluateCommand(MethodRegistries registries, ModelFactory models) {
        this.registries = registries;
        this.models = models;
    }

    @Override
    public Integer call() throws IOException {
        MethodRegistry methods = registries.forPlugins(common.pluginsDir());
        PrintWriter out = spec.commandLine().getOut();
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainedRun run = trained.open(split, methods, models, manager, out);
            SplitList evalList = run.lists()[1];
            var images = TaskData.images(run.lists(), run.experiment().data(),
                    run.model().backbone().dataConfig())[1];
            StringBuilder csv = new StringBuilder("image,label,predicted,confidence\n");
            Evaluator.Predictions rows = (i, label, predicted, confidence) -> csv.append(
                    quote(evalList.samples().get(i).image().toString())).append(',').append(label).append(',')
                    .append(predicted).append(',').append(String.format(Locale.ROOT, "%.6f", confidence)).append('\n');
            Evaluator.Result result = Evaluator.evaluate(run.model(), images, run.experiment().data().evalBatchSize(),
                    predictions == null ? null : rows, new ProgressObserver(System.console() != null, out));
            out.printf(Locale.ROOT, "%s accuracy: %.2f%% (%d images, %s on %s, adapter of %s seed %d)%n", result.split(),
                    100 * result.accuracy(), result.images(), run.header().method(), run.header().backbone(),
                    run.header().dataset(), run.header().seed());
            if (predictions != null) {
                AtomicFiles.writeString(predictions, csv.toString());
                out.println("predictions: " + predictions);
            }
        } catch (IndexOutOfBoundsException e) {
            throw new PeftException("the split lists and the loaded images disagree: " + e.getMessage());
        }
        out.flush();
        return 0;
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
