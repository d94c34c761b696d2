package org.peft4j.runner.cli;

import picocli.CommandLine;

/** {@code peft4j --version}: the Implementation-Version of the runner jar's manifest (set by the Maven build). */
final class ManifestVersion implements CommandLine.IVersionProvider {

    /** What is printed when the classes do not come from the built jar (an IDE, {@code target/classes}). */
    static final String UNPACKAGED = "development build (not run from peft4j.jar, no version in a manifest)";

    @Override
    public String[] getVersion() {
        return new String[] {"peft4j " + version()};
    }

    static String version() {
        String version = Peft4jCli.class.getPackage().getImplementationVersion();
        return version == null ? UNPACKAGED : version;
    }
}
