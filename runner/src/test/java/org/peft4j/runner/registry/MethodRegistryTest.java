package org.peft4j.runner.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;

class MethodRegistryTest {

    @TempDir Path work;

    @Test
    void findsTheBuiltInMethodsWithTheirDefaults() {
        MethodRegistry registry = MethodRegistry.discover(work.resolve("no-plugins"));
        assertThat(registry.ids()).contains("full", "linear", "lora");
        assertThat(registry.defaults("lora").getInt("rank")).isEqualTo(8);
        assertThat(registry.problems()).isEmpty();
    }

    @Test
    void loadsAMethodFromAJarInThePluginsFolderAndItsReferenceConf() throws Exception {
        Path plugins = PluginJars.hello(work);
        MethodRegistry registry = MethodRegistry.discover(plugins);
        assertThat(registry.ids()).contains("hello", "lora");
        assertThat(registry.get("hello").description()).contains("hello plugin");
        assertThat(registry.defaults("hello").getString("parameter")).isEqualTo("norm.weight");
        assertThat(registry.entries().stream().filter(e -> e.method().id().equals("hello")).findFirst().orElseThrow().location())
                .endsWith("hello.jar");
    }

    @Test
    void aBrokenPluginIsReportedAndTheOthersStillLoad() throws Exception {
        Path plugins = PluginJars.hello(work);
        PluginJars.broken(plugins);
        MethodRegistry registry = MethodRegistry.discover(plugins);
        assertThat(registry.ids()).contains("hello", "lora");
        assertThat(registry.problems()).singleElement().asString().contains("org.example.Missing");
    }

    @Test
    void unknownIdListsTheKnownOnes() {
        MethodRegistry registry = MethodRegistry.discover(work);
        assertThatThrownBy(() -> registry.get("lorra")).isInstanceOf(PeftException.class)
                .hasMessageContaining("unknown method 'lorra'").hasMessageContaining("lora");
    }
}
