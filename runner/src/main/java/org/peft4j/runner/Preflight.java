package org.peft4j.runner;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.peft4j.api.ConfigOrigins;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.backbone.CheckpointLoader;
import org.peft4j.runner.config.Experiment;
import org.peft4j.runner.config.ExperimentLoader;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageFiles;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.registry.MethodRegistry;

/**
 * What can be checked about an experiment before any tensor is built, checked together and reported together with
 * the config's own problems: the split lists and their labels, every image file's header, the method's options (the
 * method reads them when it creates its tuner, which builds nothing), the backbone name, the checkpoint's header and
 * the device against this machine. A check whose settings are already reported as unusable is skipped.
 */
public final class Preflight {

    /** Classes assumed for the method check when the split lists could not be read (they are reported already). */
    private static final int UNKNOWN_CLASSES = 2;

    private Preflight() {}

    /** The run's splits, for a valid experiment; every problem found is thrown at once. */
    public static SplitList[] check(Experiment experiment, MethodRegistry methods, BackboneRegistry backbones) {
        return check(new ExperimentLoader.Validation(experiment, List.of(), Set.of()), methods, backbones);
    }

    /** The config's problems and those of every check its sound settings allow, thrown together; else the splits. */
    public static SplitList[] check(ExperimentLoader.Validation validation, MethodRegistry methods, BackboneRegistry backbones) {
        Experiment e = validation.experiment();
        if (e == null) {
            throw PeftException.of(validation.problems());
        }
        List<PeftException> problems = new ArrayList<>();
        SplitList[] splits = null;
        if (!validation.affects("data")) {
            splits = attempt(problems, () -> DatasetLayouts.splits(e.data()));
            if (splits != null) {
                SplitList[] found = splits;
                attempt(problems, () -> {
                    ImageFiles.check(found);
                    return null;
                });
            }
        }
        if (!validation.affects("method")) {
            int classes = splits == null ? UNKNOWN_CLASSES : splits[0].numClasses();
            attempt(problems, () -> methods.get(e.methodId()).create(new MethodContext(e.methodSettings(), e.source(),
                    e.run().seeds().get(0), e.data().name(), classes)));
        }
        if (!validation.affects("backbone.name")) {
            attempt(problems, () -> backbones.providerOf(e.backbone().name()));
        }
        if (!validation.affects("backbone.checkpoint")) {
            e.backbone().checkpoint().ifPresent(file -> attempt(problems, () -> CheckpointLoader.checkHeader(file)));
        }
        if (!validation.affects("output") && Files.exists(e.run().output()) && !Files.isDirectory(e.run().output())) {
            problems.add(new PeftException("output in " + ConfigOrigins.describe(e.config().getValue("output").origin(), e.source())
                    + ": " + e.run().output() + " is a file; results go into a folder"));
        }
        if (!validation.affects("device")) {
            attempt(problems, () -> Devices.resolve(e.run().device()));
        }
        List<String> all = new ArrayList<>(validation.problems());
        problems.forEach(p -> all.addAll(p.problems()));
        PeftException.throwIfAny(all);
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
