package org.peft4j.runner.cli;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.util.cuda.CudaUtils;
import java.io.PrintWriter;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.peft4j.runner.train.Tf32;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code peft4j list-devices}: the engine, the libtorch build DJL loaded, and the CUDA devices it sees. */
@Command(name = "list-devices", aliases = "describe-system", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = {"Print the engine, the PyTorch (libtorch) version DJL loaded, its build flavor and the CUDA devices.",
                "The CPU build is the default; the README's GPU section says how to get a CUDA one (-Pcuda, or a PyTorch "
                        + "you have through PYTORCH_LIBRARY_PATH, PYTORCH_VERSION and PYTORCH_FLAVOR)."})
public final class ListDevicesCommand implements Callable<Integer> {

    /** Environment variables that decide which libtorch DJL loads and how fp32 matmuls run. */
    static final List<String> VARIABLES = List.of("PYTORCH_LIBRARY_PATH", "PYTORCH_VERSION", "PYTORCH_FLAVOR",
            "PYTORCH_PRECXX11", "DJL_CACHE_DIR", Tf32.VARIABLE);

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Engine engine = Engine.getInstance();
        out.printf(Locale.ROOT, "engine: %s %s (DJL %s)%n", engine.getEngineName(), engine.getVersion(), Engine.getDjlVersion());
        out.printf(Locale.ROOT, "default device: %s%n", engine.defaultDevice());
        int gpus = engine.getGpuCount();
        if (gpus == 0) {
            out.println("CUDA devices: none" + (CudaUtils.hasCuda() ? " (a CUDA runtime was found, but this libtorch build "
                    + "or driver sees no device)" : ""));
        } else {
            out.printf(Locale.ROOT, "CUDA devices: %d (CUDA %s)%n", gpus, CudaUtils.getCudaVersionString());
            for (int i = 0; i < gpus; i++) {
                Device gpu = Device.gpu(i);
                MemoryUsage memory = CudaUtils.getGpuMemory(gpu);
                out.printf(Locale.ROOT, "  %s: compute capability %s, %.1f GiB, %.1f GiB in use%n", gpu,
                        CudaUtils.getComputeCapability(i), memory.getMax() / 1073741824.0, memory.getUsed() / 1073741824.0);
            }
        }
        out.println("TF32 matmuls for fp32: " + (Tf32.onByEnvironment() ? "on" : "off") + " (" + Tf32.VARIABLE + ")");
        for (String variable : VARIABLES) {
            String value = System.getenv(variable);
            if (value != null) {
                out.printf(Locale.ROOT, "%s=%s%n", variable, value);
            }
        }
        out.flush();
        return 0;
    }
}
