package org.peft4j.runner.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Model.CommandSpec;

/** A command's standard output as a PrintStream (the runner prints through PrintStreams; picocli hands writers). */
final class Output {

    private Output() {}

    static PrintStream of(CommandSpec spec) {
        return new PrintStream(new WriterOutputStream(spec.commandLine().getOut()), true, StandardCharsets.UTF_8);
    }
}
