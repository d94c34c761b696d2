package org.peft4j.runner.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How a child process or a cluster task starts peft4j: the configured command line, or this very Java with this
 * classpath (so it works from the jar, the launcher and the test suite alike).
 */
public final class ChildCommand {

    /** The CLI's entry point. */
    public static final String MAIN_CLASS = "org.peft4j.runner.cli.Peft4jCli";

    private ChildCommand() {}

    /** The command's words; {@code configured} (split at spaces) wins when set. */
    public static List<String> words(String configured) {
        if (configured != null && !configured.isBlank()) {
            return List.of(configured.trim().split("\\s+"));
        }
        List<String> words = new ArrayList<>();
        words.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        words.add("-cp");
        words.add(System.getProperty("java.class.path"));
        words.add(MAIN_CLASS);
        return words;
    }

    /** The same, quoted for a POSIX shell script. */
    public static String shell(String configured) {
        if (configured != null && !configured.isBlank()) {
            return configured.trim();
        }
        return String.join(" ", words(null).stream().map(ChildCommand::quote).toList());
    }

    static String quote(String word) {
        return word.matches("[A-Za-z0-9_./:=@%+-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }
}
