package org.peft4j.runner.results;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.peft4j.api.PeftException;
import org.peft4j.api.io.AtomicFiles;

/** The JSON the runner writes and reads (Gson). Non-finite numbers are refused: they are not JSON. */
public final class Json {

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

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
}
