package org.peft4j.runner.cli;

import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.peft4j.api.PeftException;
import org.peft4j.api.site.Adapter;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TrainedRun;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.results.BackboneCheckpoint;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code peft4j merge <run folder> --output merged.safetensors}: a full checkpoint in timm's key names with the adapter folded in. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Fold a run's adapter into its backbone and write the whole model (head included) as a timm-format "
                + "safetensors checkpoint that `peft4j forward` and timm load. Methods that keep modules at inference "
                + "(adapters, AdaptFormer, VPT, MoSA) cannot be folded into timm's weights and are refused.")
public final class MergeCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "RUN", description = "A run folder (results/.../seed-<n>) or an experiment file.")
    Path run;

    @Option(names = "--adapter", paramLabel = "FILE", description = "Adapter file (default: the run folder's adapter.safetensors).")
    Path adapter;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The merged checkpoint (.safetensors).")
    Path output;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting of the run (e.g. data.root=...).")
    List<String> overrides = new ArrayList<>();

    private final MethodRegistries registries;
    private final ModelFactory models;

    @Inject
    MergeCommand(MethodRegistries registries, ModelFactory models) {
        this.registries = registries;
        this.models = models;
    }

    @Override
    public Integer call() {
        MethodRegistry methods = registries.forPlugins(common.pluginsDir());
        PrintStream out = Output.of(spec);
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainedRun trained = TrainedRun.open(run, adapter, overrides, null, methods, models, manager, out);
            for (AdapterSite site : trained.model().backbone().sites()) {
                for (Adapter a : site.adapters()) {
                    if (!a.foldable()) {
                        throw new PeftException(trained.header().method() + " keeps its '" + a.name() + "' modules at inference (site "
                                + site.id() + "); they cannot be folded into timm's weights, so there is no merged checkpoint. "
                                + "Use the adapter file with `peft4j evaluate` instead.");
                    }
                }
            }
            trained.model().merge();
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("peft4j_merged_from", trained.header().method());
            meta.put("dataset", trained.header().dataset());
            int written = BackboneCheckpoint.write(output, trained.model().backbone(), true, 3, meta);
            out.println("merged " + trained.header().method() + " into " + trained.header().backbone() + ": " + written
                    + " tensors -> " + output);
        }
        out.flush();
        return 0;
    }
}
