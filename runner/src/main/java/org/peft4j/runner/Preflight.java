package org.peft4j.runner;

import java.util.ArrayList;
import java.util.List;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageFiles;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.registry.MethodRegistry;

/**
 * What can be checked about a validated experiment before any tensor is built, checked together and reported together:
 * the device against this machine, the backbone name, the checkpoint's header, the split lists and their labels, every
 * image file's header, and the method's options (the method reads them when it creates its tuner, which builds nothing).
 */
public final class Preflight {

    /** Classes assumed for the method check when the split lists could not be read (they are reported already). */
    private static final int UNKNOWN_CLASSES = 2;

    private Preflight() {}

    /** The run's splits; every problem found is thrown at once. */
    public static SplitList[] check(Experiment experiment, MethodRegistry methods, BackboneRegistry backbones) {
        List<PeftException> problems = new ArrayList<>();
        SplitList[] splits = attempt(problems, () -> DatasetLayouts.splits(experiment.data()));
        if (splits != null) {
            attempt(problems, () -> {
                ImageFiles.check(splits);
                return null;
            });
        }
        attempt(problems, () -> methods.get(experiment.methodId()).create(new MethodContext(experiment.methodSettings(),
                experiment.source(), experiment.run().seeds().get(0), experiment.data().name(),
                splits == null ? UNKNOWN_CLASSES : splits[0].numClasses())));
        attempt(problems, () -> backbones.providerOf(experiment.backbone().name()));
        experiment.backbone().checkpoint().ifPresent(file -> attempt(problems, () -> CheckpointLoader.checkHeader(file)));
        attempt(problems, () -> Devices.resolve(experiment.run().device()));
        if (!problems.isEmpty()) {
            throw PeftException.combine(problems);
        }
        return splits;
    }

    private interface Check<T> {
        T run();
    }

    private static <T> T attempt(List<PeftException> problems, Check<T> check) {
        try {
            return check.run();
        } catch (PeftException e) {
            problems.add(e);
            return null;
        }
    }
}
