package org.peft4j.runner.cli;

import java.nio.file.Path;

/** Process settings DJL reads once, set before any DJL class loads: offline, no telemetry, a stable cache. */
final class Environment {

    private Environment() {}

    static void prepare() {
        setDefault("ai.djl.offline", "true");
        setDefault("OPT_OUT_TRACKING", "true");
        if (System.getenv("DJL_CACHE_DIR") == null) {
            setDefault("DJL_CACHE_DIR", Path.of(System.getProperty("user.home"), ".djl.ai").toString());
        }
        setDefault("org.slf4j.simpleLogger.log.ai.djl.util.cuda.CudaUtils", "error");
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
