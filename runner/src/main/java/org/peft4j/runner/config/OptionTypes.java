package org.peft4j.runner.config;

import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.Set;

/**
 * Checks a user's value against the type of its default in reference.conf, for the runner's options and every
 * method's alike: a number where the default is a number, a whole number where the default is an integer (so
 * {@code rank = 1.5} or {@code epochs = 2.5} is an error, not a silent truncation), true/false for booleans, lists
 * for lists (their elements like the default's first one). Typesafe Config's own {@code checkValid} accepts a string
 * for any scalar and truncates fractions when an int is read. So a default written without a decimal point
 * ({@code rank = 8}) declares a whole-number option, and one written with it ({@code alpha = 8.0}) a real one.
 */
public final class OptionTypes {

    private static final Set<String> BOOLEAN_WORDS = Set.of("true", "false", "yes", "no", "on", "off");

    private OptionTypes() {}

    /** What is wrong with {@code value} for an option whose default is {@code reference}, or null if nothing. */
    public static String problem(ConfigValue value, ConfigValue reference) {
        ConfigValueType type = reference.valueType();
        switch (type) {
            case NUMBER -> {
                BigDecimal number = number(value);
                if (number == null) {
                    return "expected a number, got " + shown(value);
                }
                if (isWhole(reference) && !isWhole(number)) {
                    return "expected a whole number, got " + number.stripTrailingZeros().toPlainString();
                }
                return null;
            }
            case BOOLEAN -> {
                boolean ok = value.valueType() == ConfigValueType.BOOLEAN || value.valueType() == ConfigValueType.STRING
                        && BOOLEAN_WORDS.contains(value.unwrapped().toString().toLowerCase(Locale.ROOT));
                return ok ? null : "expected true or false, got " + shown(value);
            }
            case STRING -> {
                return value.valueType() == ConfigValueType.LIST || value.valueType() == ConfigValueType.OBJECT
                        ? "expected a single value, got " + shown(value) : null;
            }
            case LIST -> {
                if (value.valueType() != ConfigValueType.LIST) {
                    return "expected a list [...], got " + shown(value);
                }
                ConfigList defaults = (ConfigList) reference;
                if (defaults.isEmpty()) {
                    return null; // element type unknown: the reader of the option checks it
                }
                for (ConfigValue element : (ConfigList) value) {
                    String problem = problem(element, defaults.get(0));
                    if (problem != null) {
                        return "in the list: " + problem;
                    }
                }
                return null;
            }
            case OBJECT -> {
                return value.valueType() == ConfigValueType.OBJECT ? null : "expected a block { ... }, got " + shown(value);
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * Whether a default is an integer as written in reference.conf: no decimal point or exponent ({@code 0.0} is a
     * double default even though Typesafe Config stores it as an int).
     */
    static boolean isWhole(ConfigValue reference) {
        Object v = reference.unwrapped();
        String written = reference.atKey("v").getString("v"); // a number's text as written (render() would print 0)
        return (v instanceof Integer || v instanceof Long) && !written.contains(".") && !written.toLowerCase(Locale.ROOT).contains("e");
    }

    static boolean isWhole(BigDecimal number) {
        return number.signum() == 0 || number.stripTrailingZeros().scale() <= 0;
    }

    /** The value as a number, if it is one or a string that reads as one. */
    static BigDecimal number(ConfigValue value) {
        if (value.valueType() == ConfigValueType.NUMBER) {
            return new BigDecimal(value.unwrapped().toString());
        }
        if (value.valueType() == ConfigValueType.STRING) {
            try {
                return new BigDecimal(value.unwrapped().toString().strip());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static String shown(ConfigValue value) {
        return switch (value.valueType()) {
            case STRING -> "'" + value.unwrapped() + "'";
            case LIST -> "a list";
            case OBJECT -> "a block";
            case NULL -> "null";
            default -> value.unwrapped().toString();
        };
    }
}
