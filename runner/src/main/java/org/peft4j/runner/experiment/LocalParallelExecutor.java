package org.peft4j.runner.experiment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs cells as child processes ({@code peft4j run-cell}), N at a time, each on its own device: {@code gpu0 ..
 * gpuN-1}, or N CPU processes sharing the cores (each gets cores / N intra-op threads). Each child writes its log to
 * {@code <experiment>/logs/<stage>-<index>.log}.
 */
public final class LocalParallelExecutor implements Executor {

    private final List<String> devices;
    private final List<String> command;
    private final Path matrixFile;
    private final Path logs;
    private final boolean force;

    /**
     * @param devices one device per parallel slot ({@code cpu} may repeat)
     * @param matrixFile the comparison file the children expand ({@code <experiment>/compare.conf})
     */
    public LocalParallelExecutor(List<String> devices, List<String> command, Path matrixFile, Path logs, boolean force) {
        this.devices = List.copyOf(devices);
        this.command = List.copyOf(command);
        this.matrixFile = matrixFile;
        this.logs = logs;
        this.force = force;
    }

    /** N slots: the first N GPUs, or N CPU processes. */
    public static List<String> devices(int parallel, boolean gpus) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < parallel; i++) {
            out.add(gpus ? "gpu" + i : "cpu");
        }
        return out;
    }

    @Override
    public Map<String, String> run(List<Task> tasks, InProcess inProcess, CompareProgress progress) {
        Map<String, String> failed = new LinkedHashMap<>();
        BlockingQueue<String> free = new ArrayBlockingQueue<>(devices.size(), false, devices);
        ExecutorService pool = Executors.newFixedThreadPool(devices.size());
        try {
            Files.createDirectories(logs);
            List<Future<?>> running = new ArrayList<>();
            for (Task task : tasks) {
                running.add(pool.submit(() -> {
                    String device = free.take();
                    try {
                        synchronized (progress) {
                            progress.cellStarted(task.cell());
                        }
                        int code = child(task, device);
                        synchronized (progress) {
                            if (code == 0) {
                                progress.cellDone(task.cell());
                            } else {
                                String reason = "exit code " + code + "; see " + log(task);
                                failed.put(task.cell().label(), reason);
                                progress.cellFailed(task.cell(), reason);
                            }
                        }
                    } finally {
                        free.put(device);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while cells were running", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a cell runner thread failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        return failed;
    }

    private int child(Task task, String device) throws IOException, InterruptedException {
        List<String> words = new ArrayList<>(command);
        words.addAll(List.of("run-cell", matrixFile.toString(), task.stage(), Integer.toString(task.index()),
                "--set", "device=" + device));
        if (force) {
            words.add("--force");
        }
        ProcessBuilder builder = new ProcessBuilder(words).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(task).toFile()));
        if (device.equals("cpu")) {
            int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / devices.size());
            builder.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
        }
        Process process = builder.start();
        try {
            return process.waitFor();
        } finally {
            process.destroy();
        }
    }

    private Path log(Task task) {
        return logs.resolve(task.stage() + "-" + task.index() + ".log");
    }
}
