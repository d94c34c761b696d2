package org.peft4j.runner;

import com.google.inject.Inject;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.experiment.Cell;
import org.peft4j.runner.experiment.CellRunner;
import org.peft4j.runner.experiment.CellSpec;
import org.peft4j.runner.experiment.ModelFactory;
import org.peft4j.runner.experiment.TaskData;
import org.peft4j.runner.registry.MethodRegistry;

/**
 * {@code peft4j run}: one experiment file, one cell per seed ({@code <experiment>/<dataset>/<method>/default/<protocol>/seed-<n>}),
 * each run by the {@link CellRunner}: finished cells are skipped, stopped ones resume.
 */
public final class ExperimentRunner {

    private final CellRunner cells;
    private final BackboneRegistry backbones;

    @Inject
    public ExperimentRunner(CellRunner cells, BackboneRegistry backbones) {
        this.cells = cells;
        this.backbones = backbones;
    }

    /** Outside Guice (tests): the runner's own wiring over a backbone registry. */
    public ExperimentRunner(BackboneRegistry backbones) {
        this(new CellRunner(new ModelFactory(backbones), new TaskData()), backbones);
    }

    public List<CellRunner.Outcome> run(Experiment experiment, MethodRegistry methods, PrintWriter out) {
        return run(experiment, methods, false, out);
    }

    /** Checks everything checkable before any tensor ({@link Preflight}), then runs each seed's cell. */
    public List<CellRunner.Outcome> run(Experiment experiment, MethodRegistry methods, boolean force, PrintWriter out) {
        Preflight.check(experiment, methods, backbones);
        List<CellRunner.Outcome> results = new ArrayList<>();
        for (long seed : experiment.run().seeds()) {
            Cell cell = new Cell(experiment.run().experiment(), Cell.folderName(experiment.data().name()),
                    experiment.methodId(), Cell.DEFAULT_POINT, experiment.data().protocol(), seed);
            results.add(cells.run(new CellSpec(cell, experiment.withSeed(seed), Map.of()), methods, force, out));
        }
        return results;
    }
}
