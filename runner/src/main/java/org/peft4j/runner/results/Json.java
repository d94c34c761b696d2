package org.peft4j.runner.results;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.util.function.Function;

/**
 * The one Gson setup of the results files ({@code metrics.json}, sidecars): pretty, keys in insertion order (nulls
 * kept), no HTML escapes, and non-finite numbers written as {@code null} (JSON has no NaN: a diverged loss must not
 * make the file unreadable).
 */
public final class Json {

    public static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls()
            .registerTypeAdapter(Double.class, new FiniteOrNull<>(d -> d))
            .registerTypeAdapter(double.class, new FiniteOrNull<>(d -> d))
            .registerTypeAdapter(Float.class, new FiniteOrNull<>(Double::floatValue))
            .registerTypeAdapter(float.class, new FiniteOrNull<>(Double::floatValue))
            .create();

    private Json() {}

    /** The value as pretty JSON with a final newline. */
    public static String render(Object value) {
        return GSON.toJson(value) + "\n";
    }

    /** Writes NaN and infinities as null; reads numbers (and null) back as {@code T}. */
    private static final class FiniteOrNull<T extends Number> extends TypeAdapter<T> {
        private final Function<Double, T> fromDouble;

        FiniteOrNull(Function<Double, T> fromDouble) {
            this.fromDouble = fromDouble;
        }

        @Override
        public void write(JsonWriter out, T value) throws IOException {
            if (value == null || !Double.isFinite(value.doubleValue())) {
                out.nullValue();
            } else {
                out.value(value);
            }
        }

        @Override
        public T read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return null;
            }
            return fromDouble.apply(in.nextDouble());
        }
    }
}
