package org.peft4j.runner.cli;

import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
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
import picocli.CommandLine.Spec;

/** {@code peft4j merge <run folder> --output merged.safetensors}: a full checkpoint in timm's key names with the adapter folded in. */
@Command(name = "merge", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Fold a run's adapter into its backbone and write the whole model (head included) as a timm-format "
                + "safetensors checkpoint that `peft4j forward` and timm load. Methods that keep modules at inference "
                + "(adapters, AdaptFormer, VPT, MoSA) cannot be folded into timm's weights and are refused.")
public final class MergeCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Mixin TrainedRunOptions trained;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The merged checkpoint (.safetensors).")
    Path output;

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
        PrintWriter out = spec.commandLine().getOut();
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainedRun run = trained.open(null, methods, models, manager, out);
            for (AdapterSite site : run.model().backbone().sites()) {
                for (Adapter a : site.adapters()) {
                    if (!a.foldable()) {
                        throw new PeftException(run.header().method() + " keeps its '" + a.name() + "' modules at inference (site "
                                + site.id() + "); they cannot be folded into timm's weights, so there is no merged checkpoint. "
                                + "Use the adapter file with `peft4j evaluate` instead.");
                    }
                }
            }
            run.model().merge();
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("peft4j_merged_from", run.header().method());
            meta.put("dataset", run.header().dataset());
            int written = BackboneCheckpoint.write(output, run.model().backbone(), true, 3, meta);
            out.println("merged " + run.header().method() + " into " + run.header().backbone() + ": " + written
                    + " tensors -> " + output);
        }
        out.flush();
        return 0;
    }
}
