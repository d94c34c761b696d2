package org.peft4j.runner.registry;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One {@link MethodRegistry} per plugins folder, discovered on first use. */
public final class MethodRegistries {

    private final Map<Path, MethodRegistry> byFolder = new ConcurrentHashMap<>();

    public MethodRegistry forPlugins(Path pluginsDir) {
        return byFolder.computeIfAbsent(pluginsDir.toAbsolutePath().normalize(), MethodRegistry::discover);
    }
}
