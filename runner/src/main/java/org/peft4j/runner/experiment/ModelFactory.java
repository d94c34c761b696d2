package org.peft4j.runner.experiment;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import java.io.PrintWriter;
import org.peft4j.api.AttentionKernel;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.api.Precision;
import org.peft4j.api.Tuner;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.runner.Devices;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.Settings;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;
import org.peft4j.runner.train.Tf32;

/** Builds an experiment's model: the backbone with its checkpoint loaded and the method attached. */
public final class ModelFactory {

    /** Printed whenever a run starts from an untrained backbone: PEFT numbers from it mean little. */
    public static final String RANDOM_BACKBONE = "warning: backbone.checkpoint is empty: the backbone starts from random"
            + " weights, not pretrained ones (set backbone.checkpoint to a .safetensors or .npz file)";

    private final BackboneRegistry backbones;

    @Inject
    public ModelFactory(BackboneRegistry backbones) {
        this.backbones = backbones;
    }

    /**
     * The experiment's backbone (checkpoint loaded) with its method attached, for one seed: the engine is seeded
     * first, so the same seed gives the same initialisation.
     */
    public PeftModel assemble(Experiment experiment, MethodRegistry methods, int numClasses, long seed, NDManager manager,
            PrintWriter out) {
        Engine.getInstance().setRandomSeed((int) seed);
        Settings.Compute compute = experiment.compute();
        Precision precision = Precision.parse(compute.precision(), manager.getDevice(), "compute.precision in " + experiment.source());
        Tf32.requireFor(precision, manager.getDevice());
        Backbone backbone = backbone(experiment.backbone(), compute.attention(), numClasses, manager, out);
        Tuner tuner = methods.get(experiment.methodId()).create(new MethodContext(experiment.methodSettings(),
                experiment.source(), seed, experiment.data().name(), numClasses));
        return PeftModel.assemble(backbone, tuner).usePrecision(precision);
    }

    private Backbone backbone(Settings.Backbone settings, AttentionKernel attention, int numClasses, NDManager manager,
            PrintWriter out) {
        BackboneOptions options = new BackboneOptions(settings.name(), numClasses, settings.imageSize(), settings.dropPath(), 3,
                attention);
        Backbone backbone = backbones.build(options, manager);
        settings.checkpoint().ifPresentOrElse(path -> {
            CheckpointLoader.Report report = CheckpointLoader.load(backbone, path, settings.strict());
            out.println("checkpoint " + path + ": " + report.summary());
        }, () -> out.println(RANDOM_BACKBONE));
        return backbone;
    }

    /** The DJL device of a config's {@code device} setting, checked against this machine. */
    public static Device device(String name) {
        return Devices.resolve(name);
    }

    /** The backbones this factory builds from. */
    public BackboneRegistry backbones() {
        return backbones;
    }
}
