package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.registry.MethodRegistries;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code peft4j list-methods}: every method found, with version and source jar. */
@Command(name = "list-methods", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "List the PEFT methods found (classpath and plugins).")
public final class ListMethodsCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    private final MethodRegistries registries;

    @Inject
    ListMethodsCommand(MethodRegistries registries) {
        this.registries = registries;
    }

    @Override
    public Integer call() {
        MethodRegistry registry = common.methods(registries, spec);
        PrintWriter out = spec.commandLine().getOut();
        for (MethodRegistry.Entry e : registry.entries()) {
            out.printf("%-12s %s%n", e.method().id(), e.method().description());
            if (common.debug) {
                out.printf("%-12s version %s from %s%n", "", e.method().version(), e.location());
            }
        }
        return 0;
    }
}
