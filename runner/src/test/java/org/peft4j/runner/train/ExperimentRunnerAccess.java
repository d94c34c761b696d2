package org.peft4j.runner.train;

import org.peft4j.api.DataConfig;
import org.peft4j.runner.config.Settings;
import org.peft4j.runner.data.Transform;

/** Test access to the runner's transform choice. */
final class ExperimentRunnerAccess {

    private ExperimentRunnerAccess() {}

    static Transform transform(Settings.Data data, DataConfig config) {
        return org.peft4j.runner.ExperimentRunner.transform(data, config);
    }
}
