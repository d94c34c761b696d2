package org.peft4j.runner;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;

/**
 * Trainable counts on Swin-B and ConvNeXt-B that the reference code and the papers fix (head excluded): SSF at its
 * code's places on ConvNeXt-B, and the Swin-B rows of MoSA's Table 13 (BitFit with the relative position bias
 * tables 0.20M, AdaptFormer-64 1.55M, MoSA-64 1.55M: inside the MLP without a LayerNorm of its own, full 86.74M).
 */
class LargeBackboneCountsTest {

    @ParameterizedTest(name = "{1} on {0}: {3}")
    @CsvSource(delimiter = '|', value = {
        "convnext_base|ssf||260608",
        "swin_base_patch4_window7_224|bitfit||200760",
        "swin_base_patch4_window7_224|bitfit|relative-position-bias = false|137216",
        "swin_base_patch4_window7_224|adaptformer||1553664",
        "swin_base_patch4_window7_224|mosa|bottleneck = 64|1553664",
        "swin_base_patch4_window7_224|full||86743224",
    })
    void countsMatchTheReferenceCode(String backbone, String method, String options, long expected) {
        MethodRegistry methods = MethodRegistry.discover(Path.of("no-plugins"));
        try (NDManager manager = NDManager.newBaseManager()) {
            var model = BackboneRegistry.load().build(BackboneOptions.of(backbone, 100), manager);
            var settings = ConfigFactory.parseString(options == null ? "" : options).withFallback(methods.defaults(method)).resolve();
            PeftModel peft = PeftModel.assemble(model, methods.get(method).create(new MethodContext(settings, "test.conf", 0, "t", 100)));
            assertThat(peft.trainableBackboneParameters()).isEqualTo(expected);
        }
    }
}
