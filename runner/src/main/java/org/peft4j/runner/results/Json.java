package org.peft4j.runner.results;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;

/**
 * The JSON the runner writes and reads (Gson): pretty, keys in insertion order (nulls kept), no HTML escapes, and
 * non-finite numbers written as {@code null} (JSON has no NaN: a diverged loss must not make metrics.json unreadable).
 */
public final class Json {

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls()
            .registerTypeAdapter(Double.class, new FiniteOrNull<>(d -> d))
            .registerTypeAdapter(double.class, new FiniteOrNull<>(d -> d))
            .registerTypeAdapter(Float.class, new FiniteOrNull<>(Double::floatValue))
            .registerTypeAdapter(float.class, new FiniteOrNull<>(Double::floatValue))
            .create();

    private Json() {}

    public static String render(Object value) {
        return GSON.toJson(value) + "\n";
    }

    public static JsonElement tree(Object value) {
        return GSON.toJsonTree(value);
    }

    public static <T> T convert(JsonElement json, Class<T> type) {
        return GSON.fromJson(json, type);
    }

    /** Writes {@code value} as JSON, atomically. */
    public static void write(Path file, Object value) throws IOException {
        AtomicFiles.writeString(file, render(value));
    }

    /** Reads a JSON object, with an error naming the file if it is not one. */
    public static JsonObject read(Path file) {
        try {
            JsonElement json = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), JsonElement.class);
            if (json == null || !json.isJsonObject()) {
                throw new PeftException(file + " is not a JSON object");
            }
            return json.getAsJsonObject();
        } catch (IOException e) {
            throw new PeftException("cannot read " + file + ": " + e.getMessage());
        } catch (JsonParseException e) {
            throw new PeftException(file + " is not valid JSON: " + e.getMessage());
        }
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
