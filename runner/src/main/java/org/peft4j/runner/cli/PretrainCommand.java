package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.peft4j.api.PeftException;
import org.peft4j.runner.pretrain.RotationPretraining;
import org.peft4j.runner.registry.MethodRegistries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code peft4j pretrain}: self-supervised rotation prediction on the unlabeled images of an IDX file, training
 * every backbone parameter; writes a timm-format backbone checkpoint and a {@code .json} sidecar.
 */
@Command(name = "pretrain", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = {
        "Pretrain a backbone without labels by rotation prediction (Gidaris et al. 2018) on an IDX image file.",
        "Writes the backbone as timm-format safetensors (no classifier) and a .json sidecar describing the run."})
public final class PretrainCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Option(names = "--backbone", description = "Backbone variant (default: ${DEFAULT-VALUE}).")
    String backbone = "vit_micro_patch4_32";

    @Option(names = "--images", required = true, description = "MNIST-style IDX image file, plain or gzipped (labels are never read).")
    Path images;

    @Option(names = "--limit", description = "Train on the first N images of the file; 0 = all but the held-out ones (default: ${DEFAULT-VALUE}).")
    int limit = 0;

    @Option(names = "--val", description = "Hold out the next N images to measure rotation accuracy (default: ${DEFAULT-VALUE}).")
    int validation = 1000;

    @Option(names = "--epochs", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs = 5;

    @Option(names = "--lr", description = "Peak learning rate of AdamW (default: ${DEFAULT-VALUE}).")
    double lr = 1e-3;

    @Option(names = "--weight-decay", description = "Decoupled weight decay (default: ${DEFAULT-VALUE}).")
    double weightDecay = 0.05;

    @Option(names = "--warmup-epochs", description = "Linear warmup before the cosine decay (default: ${DEFAULT-VALUE}).")
    double warmupEpochs = 1;

    @Option(names = "--grad-clip", description = "Global gradient-norm clip, 0 = off (default: ${DEFAULT-VALUE}).")
    double gradClip = 1.0;

    @Option(names = "--batch-size", description = "Training batch size, a multiple of 4: 32 images x 4 rotations for 128 (default: ${DEFAULT-VALUE}).")
    int batchSize = 128;

    @Option(names = "--seed", description = "Seed of initialisation and data order (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--output", required = true, description = "Checkpoint to write (.safetensors); the sidecar goes next to it (.json).")
    Path output;

    @Option(names = "--progress", description = "Progress bar: auto (on a terminal), true, false (default: ${DEFAULT-VALUE}).")
    String progress = "auto";

    private final MethodRegistries registries;
    private final RotationPretraining pretraining;

    @Inject
    PretrainCommand(MethodRegistries registries, RotationPretraining pretraining) {
        this.registries = registries;
        this.pretraining = pretraining;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        boolean bar = switch (progress) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> System.console() != null;
            default -> throw new PeftException("--progress " + progress + ": expected auto, true or false");
        };
        pretraining.run(new RotationPretraining.Options(backbone, images, limit, validation, epochs, lr, weightDecay, warmupEpochs,
                gradClip, batchSize, seed, output), common.methods(registries, spec), out, bar);
        out.flush();
        return 0;
    }
}
