package org.peft4j.api.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.peft4j.api.MethodContext;

/** Method contexts for unit tests: the method's reference.conf defaults with HOCON overrides. */
public final class TestContexts {

    private TestContexts() {}

    /** {@code overrides} is HOCON relative to the method block, e.g. {@code "rank = 4, targets = [mlp.fc1]"}. */
    public static MethodContext method(String id, String overrides) {
        Config defaults = ConfigFactory.defaultReference().getConfig("peft4j.methods." + id);
        Config settings = ConfigFactory.parseString(overrides).withFallback(defaults).resolve();
        return new MethodContext(settings, "test.conf", 42, "test", 10);
    }

    public static MethodContext method(String id, String overrides, String dataset) {
        MethodContext base = method(id, overrides);
        return new MethodContext(base.settings(), base.source(), base.seed(), dataset, base.numClasses());
    }
}
