package org.peft4j.runner.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.runner.train.NonFiniteLossException;

/** Runs cells one after the other in this process. */
public final class SequentialExecutor implements Executor {

    @Override
    public Results run(List<CellSpec> cells, CellTask task, CompareProgress progress) {
        List<CellRunner.Outcome> done = new ArrayList<>();
        Map<Cell, String> failed = new LinkedHashMap<>();
        for (CellSpec spec : cells) {
            progress.cellStarted(spec.cell());
            try {
                CellRunner.Outcome outcome = task.run(spec);
                done.add(outcome);
                progress.cellDone(spec.cell(), outcome.skipped());
            } catch (OutOfMemoryError e) {
                throw e;
            } catch (RuntimeException e) {
                failed.put(spec.cell(), String.valueOf(e.getMessage()));
                progress.cellFailed(spec.cell(), e.getMessage());
            }
        }
        return new Results(done, failed);
    }
}
