package org.peft4j.runner.experiment;

import java.util.List;
import java.util.Map;

/** Runs a list of cells (sequentially in this process, on several local devices, or on a cluster). */
public interface Executor {

    /** What a batch of cells came to: outcomes of those that finished, failure reasons of the others. */
    record Results(List<CellRunner.Outcome> done, Map<Cell, String> failed) {}

    /** Runs one cell to its end (skipping it if it finished before); throws if it fails. */
    @FunctionalInterface
    interface CellTask {
        CellRunner.Outcome run(CellSpec spec);
    }

    /** Runs every cell; a failing cell is recorded and the others still run. */
    Results run(List<CellSpec> cells, CellTask task, CompareProgress progress);
}
