package org.peft4j.runner.results;

import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import java.util.Map;

/** JSON rendering of plain maps / lists / numbers / strings, through Typesafe Config (no extra library). */
public final class Json {

    private Json() {}

    public static String render(Map<String, ?> value) {
        return ConfigValueFactory.fromMap(value).render(ConfigRenderOptions.concise().setFormatted(true).setJson(true)) + "\n";
    }
}
