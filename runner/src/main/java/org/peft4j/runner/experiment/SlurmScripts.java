package org.peft4j.runner.experiment;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.peft4j.api.PeftException;

/**
 * The sbatch script of one stage of a comparison: a job array whose task i runs {@code peft4j run-cell <matrix>
 * <stage> i}, with the resources of {@code executor.slurm}. A pure function of its inputs, so it is tested without
 * Slurm.
 */
public final class SlurmScripts {

    /** The {@code executor.slurm} settings. */
    public record Resources(String partition, int gpus, int cpus, String memory, String time, List<String> extra,
            String command, int maxParallel) {

        public static Resources from(Config slurm, String source) {
            Resources r = new Resources(slurm.getString("partition"), slurm.getInt("gpus"), slurm.getInt("cpus"),
                    slurm.getString("memory"), slurm.getString("time"), slurm.getStringList("extra"), slurm.getString("command"),
                    slurm.getInt("max-parallel"));
            if (r.gpus < 0 || r.cpus < 1 || r.maxParallel < 0) {
                throw new PeftException("executor.slurm in " + source + ": gpus and max-parallel must be >= 0 and cpus >= 1");
            }
            for (String line : r.extra) {
                if (!line.startsWith("--")) {
                    throw new PeftException("executor.slurm.extra in " + source + ": each entry is an sbatch option starting"
                            + " with --, got '" + line + "'");
                }
            }
            return r;
        }
    }

    private SlurmScripts() {}

    /**
     * @param jobName e.g. {@code peft4j-demo-tune}
     * @param indices the array indices to run (all, or the failed ones on a retry)
     * @param workdir where the task starts (relative paths of the comparison file resolve against it)
     * @param logs the folder of the tasks' output files
     */
    public static String script(String jobName, String stage, List<Integer> indices, Resources r, Path workdir,
            Path matrixFile, Path logs) {
        List<String> lines = new ArrayList<>();
        lines.add("#!/bin/bash");
        lines.add("# peft4j compare: the " + stage + " stage, one array task per cell (peft4j run-cell <matrix> " + stage + " <i>)");
        lines.add("#SBATCH --job-name=" + jobName);
        lines.add("#SBATCH --array=" + ranges(indices) + (r.maxParallel() > 0 ? "%" + r.maxParallel() : ""));
        lines.add("#SBATCH --chdir=" + workdir);
        lines.add("#SBATCH --output=" + logs.resolve(stage + "-%A_%a.out"));
        lines.add("#SBATCH --open-mode=append");
        lines.add("#SBATCH --cpus-per-task=" + r.cpus());
        lines.add("#SBATCH --mem=" + r.memory());
        lines.add("#SBATCH --time=" + r.time());
        if (r.gpus() > 0) {
            lines.add("#SBATCH --gres=gpu:" + r.gpus());
        }
        if (!r.partition().isBlank()) {
            lines.add("#SBATCH --partition=" + r.partition());
        }
        // a preempted or requeued task starts again and resumes its cell from the last epoch checkpoint
        lines.add("#SBATCH --requeue");
        r.extra().forEach(e -> lines.add("#SBATCH " + e));
        lines.add("set -euo pipefail");
        lines.add("export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"");
        lines.add("exec " + ChildCommand.shell(r.command()) + " run-cell " + ChildCommand.quote(matrixFile.toString()) + " " + stage
                + " \"$SLURM_ARRAY_TASK_ID\"");
        return String.join("\n", lines) + "\n";
    }

    /** {@code 0-3,7,9-10}: sorted indices as sbatch's array ranges. */
    public static String ranges(List<Integer> indices) {
        if (indices.isEmpty()) {
            throw new IllegalArgumentException("no array indices");
        }
        List<Integer> sorted = indices.stream().sorted().distinct().toList();
        List<String> parts = new ArrayList<>();
        int start = sorted.get(0);
        int prev = start;
        for (int i = 1; i <= sorted.size(); i++) {
            int cur = i < sorted.size() ? sorted.get(i) : Integer.MIN_VALUE;
            if (cur != prev + 1) {
                parts.add(start == prev ? Integer.toString(start) : start + "-" + prev);
                start = cur;
            }
            prev = cur;
        }
        return String.join(",", parts);
    }
}
