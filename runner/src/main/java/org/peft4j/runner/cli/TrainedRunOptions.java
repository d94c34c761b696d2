package org.peft4j.runner.cli;

import ai.djl.ndarray.NDManager;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TrainedRun;
import org.peft4j.runner.registry.MethodRegistry;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Which trained run a command reloads (evaluate, merge): a run folder or an experiment file, an adapter, overrides. */
final class TrainedRunOptions {

    @Parameters(index = "0", paramLabel = "RUN", description = "A run folder (results/.../seed-<n>) or an experiment file.")
    Path run;

    @Option(names = "--adapter", paramLabel = "FILE", description = "Adapter file (default: the run folder's adapter.safetensors).")
    Path adapter;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting of the run (e.g. data.root=...).")
    List<String> overrides = new ArrayList<>();

    TrainedRun open(String evalSplit, MethodRegistry methods, ModelFactory models, NDManager manager, PrintWriter out) {
        return TrainedRun.open(run, adapter, overrides, evalSplit, methods, models, manager, out);
    }
}
