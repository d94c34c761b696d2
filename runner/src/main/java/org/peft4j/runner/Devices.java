package org.peft4j.runner;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.util.cuda.CudaUtils;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.peft4j.api.PeftException;

/**
 * The {@code device} setting: {@code cpu}, {@code gpu} or {@code gpu<n>}. Whether a GPU is usable is asked of the
 * engine's build (CUDA or CPU-only) and of the CUDA driver before any tensor is placed, so a run on the wrong
 * machine stops with one line instead of PyTorch's dispatcher dump.
 */
public final class Devices {

    private static final Pattern NAME = Pattern.compile("cpu|gpu(\\d*)");

    private Devices() {}

    /** What is wrong with the name itself, or null. */
    public static String syntaxProblem(String name) {
        return NAME.matcher(name).matches() ? null
                : "'" + name + "' is not a device peft4j can use: cpu, gpu (the first CUDA GPU) or gpu<n> (e.g. gpu1)";
    }

    /**
     * The device, checked against this machine: a GPU must be visible to the CUDA driver and the PyTorch build in use
     * must have CUDA.
     */
    public static Device resolve(String name) {
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            throw new PeftException("device: " + syntaxProblem(name));
        }
        if (name.equals("cpu")) {
            return Device.cpu();
        }
        int index = m.group(1).isEmpty() ? 0 : Integer.parseInt(m.group(1));
        Engine engine = Engine.getInstance();
        int gpus = CudaUtils.getGpuCount();
        String machine = gpus == 0 ? "this machine has no CUDA GPU" : "this machine has " + gpus + " CUDA GPU" + (gpus == 1 ? "" : "s")
                + " (gpu0" + (gpus > 1 ? "..gpu" + (gpus - 1) : "") + ")";
        if (!engine.hasCapability(StandardCapabilities.CUDA)) {
            throw new PeftException("device = " + name + " asks for a CUDA GPU, but peft4j runs on a CPU-only PyTorch "
                    + engine.getVersion() + " (pytorch-native-cpu) and " + machine + "; use device = cpu, or see the README's"
                    + " GPU section for a CUDA build");
        }
        if (index >= gpus) {
            throw new PeftException("device = " + name + " asks for GPU " + index + ", but " + machine
                    + "; use device = cpu or an existing GPU (README, GPU section)");
        }
        return Device.gpu(index);
    }
}
