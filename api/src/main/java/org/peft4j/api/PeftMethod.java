package org.peft4j.api;

/**
 * A parameter-efficient fine-tuning method, found by {@link java.util.ServiceLoader} (a {@code
 * META-INF/services/org.peft4j.api.PeftMethod} entry in the method's jar). The jar also ships a {@code
 * reference.conf} with every option and its default under {@code peft4j.methods.<id>}; that is what
 * validation and {@code peft4j describe <id>} read.
 */
public interface PeftMethod {

    /** Lowercase unique id, e.g. {@code lora}, {@code mlae}. */
    String id();

    /** One line for {@code peft4j list-methods}. */
    String description();

    /** This method's own version. */
    default String version() {
        return "1.0.0";
    }

    /** The SPI version it was built against; must equal {@link ApiVersion#CURRENT}. */
    default int apiVersion() {
        return ApiVersion.CURRENT;
    }

    /**
     * Creates the method's state for one run. Read and check every setting here, before any model is
     * touched, and report bad values with {@link MethodContext#invalid}.
     */
    Tuner create(MethodContext context);
}
