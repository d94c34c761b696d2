package org.peft4j.methods.baselines;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.testing.TestContexts;

/** Every baseline is registered, has defaults under peft4j.methods.<id>, and documents each option. */
class BaselineRegistryTest {

    @Test
    void everyBaselineIsAServiceWithDefaultsThatCreateATuner() {
        List<String> ids = new ArrayList<>();
        for (PeftMethod method : ServiceLoader.load(PeftMethod.class)) {
            ids.add(method.id());
            assertThat(ConfigFactory.defaultReference().hasPath("peft4j.methods." + method.id())).as(method.id()).isTrue();
            assertThat(method.create(TestContexts.method(method.id(), ""))).as(method.id()).isNotNull();
        }
        assertThat(ids).containsExactlyInAnyOrder("full", "linear", "lora", "adapter", "adaptformer", "bitfit", "vpt", "ssf");
    }

    @Test
    void everyOptionHasAOneLineCommentAboveIt() throws IOException {
        URL url = Collections.list(getClass().getClassLoader().getResources("reference.conf")).stream()
                .filter(u -> u.toString().contains("methods-baselines")).findFirst().orElseThrow();
        List<String> lines;
        try (InputStream in = url.openStream()) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        List<String> undocumented = new ArrayList<>();
        int options = 0;
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i).trim();
            if (line.matches("[a-z][a-z-]* = .*")) {
                options++;
                if (!lines.get(i - 1).trim().startsWith("#")) {
                    undocumented.add(line);
                }
            }
        }
        assertThat(options).isEqualTo(1 + 8 + 11 + 9 + 3 + 5 + 4); // linear, lora, adapter, adaptformer, bitfit, vpt, ssf
        assertThat(undocumented).isEmpty();
    }
}
