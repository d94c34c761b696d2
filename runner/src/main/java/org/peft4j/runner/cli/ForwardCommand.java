package org.peft4j.runner.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import com.google.inject.Inject;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.Npy;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code peft4j forward}: logits (or pooled features) of a checkpoint for an NCHW float32 {@code .npy}, written
 * as {@code .npy}, so anyone can check a converted checkpoint against another framework.
 */
@Command(name = "forward", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Run a backbone checkpoint on an .npy input and write the logits as .npy.")
public final class ForwardCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Option(names = "--backbone", required = true, description = "Backbone variant.")
    String backbone;

    @Option(names = "--checkpoint", description = ".safetensors or .npz checkpoint (default: random init).")
    Path checkpoint;

    @Option(names = "--input", required = true, description = "Input images, float32 .npy of shape [N, 3, H, W].")
    Path input;

    @Option(names = "--output", required = true, description = "Where to write the outputs (.npy).")
    Path output;

    @Option(names = "--features", description = "Write pooled pre-logit features instead of logits.")
    boolean features;

    @Option(names = "--classes", description = "Classifier size; default: the checkpoint's head (0 without one).")
    Integer classes;

    @Option(names = "--batch", description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batch = 32;

    @Option(names = "--no-strict", description = "Ignore checkpoint tensors the model does not use.")
    boolean lenient;

    /** NumPy's type codes as users know them (i8 is int64, not int8). */
    private static final Map<String, String> NUMPY_TYPES = Map.of("i8", "int64", "i4", "int32", "i1", "int8", "u1", "uint8",
            "b1", "bool");

    private final BackboneRegistry backbones;

    @Inject
    ForwardCommand(BackboneRegistry backbones) {
        this.backbones = backbones;
    }

    @Override
    public Integer call() throws Exception {
        Args.atLeast("--batch", batch, 1);
        if (classes != null) {
            Args.atLeast("--classes", classes, 0);
        }
        Npy.Header header = Npy.header(input);
        if (header.shape().dimension() != 4) {
            throw new PeftException(input + ": expected images [N, C, H, W], got shape " + header.shape());
        }
        boolean widen = header.dtype().equals("f8");
        if (!widen && !header.dtype().equals("f4") && !header.dtype().equals("f2")) {
            throw new PeftException(input + " holds " + NUMPY_TYPES.getOrDefault(header.dtype(), header.dtype())
                    + " values; expected float32 images [N, C, H, W],"
                    + " normalised as the backbone expects (numpy: x.astype(np.float32))");
        }
        PrintWriter err = spec.commandLine().getErr();
        if (widen) {
            err.println("note: " + input + " is float64; converted to float32, the precision the backbone computes in");
        }
        if (checkpoint == null) {
            err.println("warning: no --checkpoint: the backbone has random weights, so the outputs check nothing");
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = Npy.read(input, manager);
            if (widen) {
                x = x.toType(DataType.FLOAT32, false);
            }
            int size = (int) x.getShape().get(2);
            int numClasses = classes != null ? classes : checkpoint == null ? 0 : headClasses(checkpoint, manager);
            Backbone model = backbones.build(new BackboneOptions(backbone, numClasses, size, 0, (int) x.getShape().get(1)), manager);
            if (checkpoint != null) {
                CheckpointLoader.Report report = CheckpointLoader.load(model, checkpoint, !lenient);
                err.println(report.summary());
            }
            ParameterStore store = new ParameterStore(manager, false);
            List<NDArray> parts = new ArrayList<>();
            long n = x.getShape().get(0);
            for (long start = 0; start < n; start += batch) {
                NDArray chunk = x.get(start + ":" + Math.min(n, start + batch));
                NDArray y = features || numClasses == 0 ? model.features(store, chunk, false)
                        : model.block().forward(store, new NDList(chunk), false).singletonOrThrow();
                parts.add(y);
            }
            NDArray result = parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts), 0);
            Npy.write(output, result);
            spec.commandLine().getOut().println("wrote " + output + " " + result.getShape());
        }
        return 0;
    }

    /** The class count of the checkpoint's classifier, from timm / Google key names; 0 if it has none. */
    static int headClasses(Path file, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            Map<String, NDArray> tensors = CheckpointLoader.read(file, scope);
            for (String key : List.of("head.weight", "head.fc.weight", "fc.weight", "classifier.weight")) {
                if (tensors.containsKey(key)) {
                    return (int) tensors.get(key).getShape().get(0);
                }
            }
            if (tensors.containsKey("head/kernel")) {
                return (int) tensors.get("head/kernel").getShape().get(1);
            }
            return 0;
        }
    }
}
