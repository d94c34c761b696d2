package org.peft4j.runner;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.registry.MethodRegistries;

/** Guice wiring of the runner: registries are discovered once per process. */
public final class RunnerModule extends AbstractModule {

    @Provides
    @Singleton
    BackboneRegistry backbones() {
        return BackboneRegistry.load();
    }

    @Provides
    @Singleton
    MethodRegistries methods() {
        return new MethodRegistries();
    }
}
