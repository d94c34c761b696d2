package org.peft4j.runner.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command takes. */
public final class CommonOptions {

    @Option(names = "--debug", description = "Print stack traces of errors.")
    boolean debug;

    @Option(names = "--plugins", paramLabel = "DIR", description = "Folder of method plugin jars (default: $PEFT4J_PLUGINS or ./plugins).")
    Path plugins;

    Path pluginsDir() {
        if (plugins != null) {
            return plugins;
        }
        String env = System.getenv("PEFT4J_PLUGINS");
        return Path.of(env != null ? env : "plugins");
    }
}
