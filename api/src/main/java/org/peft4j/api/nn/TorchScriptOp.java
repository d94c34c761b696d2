package org.peft4j.api.nn;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.peft4j.api.PeftException;

/**
 * A parameter-free TorchScript module shipped as a classpath resource (made by
 * {@code tools/torchscript/make_torchscript_ops.py}) and run through DJL's PyTorch engine. Ops DJL lacks (fused
 * attention, a dtype cast that keeps the autograd graph) come this way. Each resource is loaded once per JVM; the
 * module has no weights, so one instance serves every device. Compiles against DJL's api only: the PyTorch engine
 * is found at run time.
 */
public final class TorchScriptOp {

    private static final Map<String, TorchScriptOp> LOADED = new ConcurrentHashMap<>();

    private final String resource;
    /** Held for the JVM's life: a collected Model closes its manager and frees the module. */
    private final Model model;
    private final Block block;

    private TorchScriptOp(String resource, Model model) {
        this.resource = resource;
        this.model = model;
        this.block = model.getBlock();
    }

    /** The module in resource {@code name} next to class {@code owner}, loaded on first use. */
    public static TorchScriptOp of(Class<?> owner, String name) {
        String resource = owner.getPackageName().replace('.', '/') + "/" + name;
        return LOADED.computeIfAbsent(resource, r -> load(owner, r));
    }

    private static TorchScriptOp load(Class<?> owner, String resource) {
        try (InputStream in = owner.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new PeftException("TorchScript resource " + resource + " is missing from the classpath; "
                        + "run tools/torchscript/make_torchscript_ops.py");
            }
            // the model (and its manager) lives as long as the JVM: the op is shared by every model
            Model model = Model.newInstance(resource, Device.cpu(), "PyTorch");
            model.load(in);
            return new TorchScriptOp(resource, model);
        } catch (IOException | ai.djl.MalformedModelException | ai.djl.engine.EngineException e) {
            throw new PeftException("cannot load TorchScript resource " + resource + " (it needs DJL's PyTorch engine): "
                    + e.getMessage(), e);
        }
    }

    /**
     * Runs the module's forward on {@code inputs}; the result lives in the first input's manager. Autograd follows
     * the caller (on inside a gradient collector, off outside), as for any other op: gradients flow back to every
     * input that requires them. DJL reads array names as TorchScript argument structure, so inputs must carry
     * plain names (none of ours contain '.', "[]" or "()").
     */
    public NDArray call(NDArray... inputs) {
        // DJL's "training" forward is the one that leaves PyTorch's grad mode alone (inference mode turns it off)
        return block.forward(new ParameterStore(inputs[0].getManager(), false), new NDList(inputs), true).singletonOrThrow();
    }

    /**
     * The loaded module, for callers that depend on the PyTorch engine and pass what {@link #call} cannot (lists,
     * numbers, other methods): DJL's {@code PtSymbolBlock.forward(IValue...)} and {@code IValueUtils.runMethod}.
     */
    public Block block() {
        return block;
    }

    @Override
    public String toString() {
        return "TorchScriptOp[" + resource + " on " + model.getNDManager().getEngine().getEngineName() + "]";
    }
}
