package org.peft4j.runner.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.peft4j.api.PeftException;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Option(names = "--plugins", paramLabel = "DIR", description = "Folder of method plugin jars (default: $PEFT4J_PLUGINS or ./plugins).")
    Path plugins;

    /** The methods of the classpath and the plugins folder; plugins that were skipped are printed as warnings. */
    MethodRegistry methods(MethodRegistries registries, CommandSpec spec) {
        MethodRegistry registry = registries.forPlugins(pluginsDir());
        PrintWriter err = spec.commandLine().getErr();
        registry.problems().forEach(p -> err.println("warning: " + p));
        err.flush();
        return registry;
    }

    /** The plugins folder: one named by --plugins or PEFT4J_PLUGINS must exist; the default ./plugins may be absent. */
    Path pluginsDir() {
        String env = System.getenv("PEFT4J_PLUGINS");
        if (plugins != null) {
            return existing(plugins, "--plugins " + plugins);
        }
        if (env != null && !env.isBlank()) {
            return existing(Path.of(env), "PEFT4J_PLUGINS=" + env);
        }
        return Path.of("plugins");
    }

    private static Path existing(Path dir, String given) {
        if (Files.isRegularFile(dir)) {
            throw new PeftException(given + ": expected a folder of plugin jars, got a file (put the jar in a folder)");
        }
        if (!Files.isDirectory(dir)) {
            throw new PeftException(given + ": no such folder (" + dir.toAbsolutePath() + ")");
        }
        return dir;
    }
}
