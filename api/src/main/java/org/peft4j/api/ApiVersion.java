package org.peft4j.api;

/** The version of the peft4j SPIs. A plugin built for another major version is refused with a clear error. */
public final class ApiVersion {

    /** Bumped when an SPI changes incompatibly. */
    public static final int CURRENT = 1;

    private ApiVersion() {}
}
