package org.peft4j.runner.experiment;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs cells one after the other in this process. */
public final class SequentialExecutor implements Executor {

    @Override
    public Map<String, String> run(List<Task> tasks, InProcess inProcess, CompareProgress progress) {
        Map<String, String> failed = new LinkedHashMap<>();
        for (Task task : tasks) {
            progress.cellStarted(task.cell());
            try {
                inProcess.run(task);
                progress.cellDone(task.cell());
            } catch (RuntimeException e) {
                failed.put(task.cell().label(), String.valueOf(e.getMessage()));
                progress.cellFailed(task.cell(), e.getMessage());
            }
        }
        return failed;
    }
}
