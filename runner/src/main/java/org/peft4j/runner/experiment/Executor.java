package org.peft4j.runner.experiment;

import java.util.List;
import java.util.Map;

/**
 * Runs the cells of one stage of a comparison: in this process one after the other, or as child processes on
 * several local devices. (A cluster gets the whole matrix as Slurm job arrays instead; see {@link SlurmSubmitter}.)
 */
public interface Executor {

    /**
     * One cell to run, as {@code peft4j run-cell <matrix> <stage> <index>} names it.
     *
     * @param stage {@code tune} or {@code final}
     * @param index position in {@link Matrix#tuneCells()} or {@link Matrix#finalSlots()}
     */
    record Task(String stage, int index, Cell cell) {}

    /** Runs one task in this process (skipping it if it finished before); throws if it fails. */
    @FunctionalInterface
    interface InProcess {
        void run(Task task);
    }

    /** Runs every task; a failing one is recorded (label -> reason) and the others still run. */
    Map<String, String> run(List<Task> tasks, InProcess inProcess, CompareProgress progress);
}
