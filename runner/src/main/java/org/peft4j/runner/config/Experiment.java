package org.peft4j.runner.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import java.util.List;

/**
 * A validated experiment: the full resolved config (user file over defaults) and its typed settings.
 *
 * @param source the file it came from, for messages
 * @param config the resolved config, keys without the {@code peft4j.} prefix
 * @param methodId the method's id
 * @param methodSettings the method's options (user's {@code method} block over the method's reference.conf)
 */
public record Experiment(String source, Config config, String methodId, Config methodSettings,
        Settings.Run run, Settings.Backbone backbone, Settings.Data data, Settings.Train train) {

    /** This experiment for one of its seeds: {@code seed} set, {@code seeds} empty (a cell's config). */
    public Experiment withSeed(long seed) {
        Config c = config.withValue("seed", ConfigValueFactory.fromAnyRef(seed))
                .withValue("seeds", ConfigValueFactory.fromIterable(List.of()));
        Settings.Run r = new Settings.Run(run.experiment(), List.of(seed), run.device(), run.output(), run.progress());
        return new Experiment(source, c, methodId, methodSettings, r, backbone, data, train);
    }

    /** Precision and attention kernel (checked when the experiment was loaded). */
    public Settings.Compute compute() {
        return Settings.Compute.from(config.getConfig("compute"), source);
    }

    /** The resolved config as HOCON, for {@code config.conf} in the results. */
    public String render() {
        // a run's config: its method resolved, without the comparison block (which only `compare` reads)
        Config full = config.withoutPath("method").withoutPath("compare").withFallback(
                methodSettings.atPath("method").withFallback(config.getConfig("method").atPath("method")));
        return full.root().render(ConfigRenderOptions.defaults().setOriginComments(false).setJson(false));
    }
}
