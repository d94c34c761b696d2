package org.peft4j.runner.cli;

import org.peft4j.runner.results.Version;
import picocli.CommandLine;

/** The version option of every command: the runner jar's Implementation-Version ({@link Version}). */
final class ManifestVersion implements CommandLine.IVersionProvider {

    /** What is printed when the classes do not come from the built jar (an IDE, {@code target/classes}). */
    static final String UNPACKAGED = "dev (run from classes, not from peft4j.jar: no version in a manifest)";

    @Override
    public String[] getVersion() {
        String version = Version.peft4j();
        return new String[] {"peft4j " + (version.equals("dev") ? UNPACKAGED : version)};
    }
}
