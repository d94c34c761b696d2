package org.peft4j.runner.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code peft4j describe mosa|mosl} prints every option of the method's reference.conf with its comment and default. */
class DescribeMosaTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"mosa, 'trainable backbone parameters with these defaults on vit_micro_patch4_32: 33,792'",
        "mosl, 'trainable backbone parameters with these defaults on vit_micro_patch4_32: 16,384'"})
    void describeListsEveryOptionWithItsComment(String method, String count) {
        CliTest.Result r = CliTest.cli("describe", method, "--backbone", "vit_micro_patch4_32", "--classes", "10");
        assertThat(r.code()).as(r.err()).isZero();
        Config reference = ConfigFactory.defaultReference().getConfig("peft4j.methods." + method);
        assertThat(reference.root().keySet()).hasSizeGreaterThan(10);
        for (Map.Entry<String, ConfigValue> option : reference.root().entrySet()) {
            assertThat(option.getValue().origin().comments()).as(option.getKey()).hasSize(1);
            String comment = option.getValue().origin().comments().get(0).strip();
            assertThat(r.out()).as(option.getKey()).contains("  # " + comment + "\n  " + option.getKey() + " = ");
        }
        assertThat(r.out()).contains(count);
    }
}
