package org.peft4j.runner.cli;

import com.google.inject.Inject;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.peft4j.api.BackboneProvider;
import org.peft4j.backbone.BackboneRegistry;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code peft4j list-backbones}: every backbone variant by family. */
@Command(name = "list-backbones", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "List the backbone variants.")
public final class ListBackbonesCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    private final BackboneRegistry backbones;

    @Inject
    ListBackbonesCommand(BackboneRegistry backbones) {
        this.backbones = backbones;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (BackboneProvider p : backbones.providers()) {
            out.printf("%-10s %s%n", p.family(), String.join(", ", p.variants()));
        }
        return 0;
    }
}
