package org.peft4j.runner.results;

/** peft4j's version, from the runner jar's manifest ({@code Implementation-Version}). */
public final class Version {

    private Version() {}

    /** The version, or {@code dev} when running from classes (an IDE, the test suite). */
    public static String peft4j() {
        String v = Version.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
