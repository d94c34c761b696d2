package org.peft4j.runner.cli;

import ai.djl.ndarray.NDManager;
import com.google.inject.Inject;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.peft4j.api.Backbone;
import org.peft4j.api.BackboneOptions;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.backbone.BackboneRegistry;
import org.peft4j.runner.registry.MethodRegistries;
import org.peft4j.runner.registry.MethodRegistry;
import org.peft4j.runner.train.PeftModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code peft4j describe <method>}: every option with its default and its comment from the method's
 * reference.conf, and the trainable parameter count with the defaults on a backbone (the papers' "# param").
 */
@Command(name = "describe", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Show a method's options, defaults and trainable parameter count.")
public final class DescribeCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "METHOD")
    String id;

    @Option(names = "--backbone", description = "Backbone for the parameter count (default: ${DEFAULT-VALUE}).")
    String backbone = "vit_base_patch16_224";

    @Option(names = "--classes", description = "Classes of the task for the count (default: ${DEFAULT-VALUE}).")
    int classes = 100;

    private final MethodRegistries registries;
    private final BackboneRegistry backbones;

    @Inject
    DescribeCommand(MethodRegistries registries, BackboneRegistry backbones) {
        this.registries = registries;
        this.backbones = backbones;
    }

    @Override
    public Integer call() {
        Args.atLeast("--classes", classes, 1);
        MethodRegistry registry = common.methods(registries, spec);
        PeftMethod method = registry.get(id);
        Config defaults = registry.defaults(id);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("%s (version %s): %s%n", method.id(), method.version(), method.description());
        out.println("options (set them in the experiment's `method` block):");
        Map<String, ConfigValue> sorted = new TreeMap<>();
        defaults.entrySet().forEach(e -> sorted.put(e.getKey(), e.getValue()));
        if (sorted.isEmpty()) {
            out.println("  (none)");
        }
        sorted.forEach((key, value) -> {
            for (String comment : value.origin().comments()) {
                out.println("  # " + comment.strip());
            }
            out.println("  " + key + " = " + value.render(ConfigRenderOptions.concise()));
        });
        try (NDManager manager = NDManager.newBaseManager()) {
            Backbone model = backbones.build(BackboneOptions.of(backbone, classes), manager);
            MethodContext context = new MethodContext(defaults, "defaults", 0, "describe", classes);
            long params = PeftModel.assemble(model, method.create(context)).trainableBackboneParameters();
            out.printf(Locale.ROOT, "trainable backbone parameters with these defaults on %s: %,d (%.4f M, head excluded)%n",
                    backbone, params, params / 1e6);
        }
        return 0;
    }
}
