package org.peft4j.runner.cli;

import com.google.inject.Guice;
import com.google.inject.Injector;
import java.io.PrintWriter;
import java.util.List;
import org.peft4j.runner.RunnerModule;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code peft4j} command line. */
@Command(name = "peft4j", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Visual parameter-efficient fine-tuning on DJL.",
        subcommands = {RunCommand.class, CompareCommand.class, ReportCommand.class, StatusCommand.class, EvaluateCommand.class,
                MergeCommand.class, RunCellCommand.class,
                ListMethodsCommand.class, DescribeCommand.class, ListBackbonesCommand.class,
                ForwardCommand.class, BenchCommand.class, PretrainCommand.class, ListDevicesCommand.class,
                CommandLine.HelpCommand.class})
public final class Peft4jCli {

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        Environment.prepare();
        Injector injector = Guice.createInjector(new RunnerModule());
        CommandLine cli = new CommandLine(new Peft4jCli(), new GuiceFactory(injector));
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean debug = parseResult.hasMatchedOption("--debug") || parseResult.subcommand() != null
                    && parseResult.subcommand().hasMatchedOption("--debug");
            return report(e, commandLine.getErr(), debug);
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) { // picocli passes Errors through: still one line, naming what to change
            return report(e, err, List.of(args).contains("--debug"));
        }
    }

    private static int report(Throwable e, PrintWriter w, boolean debug) {
        w.println("error: " + Failures.message(e));
        if (debug) {
            e.printStackTrace(w);
        } else if (!Failures.explained(e)) {
            w.println("(run with --debug for the stack trace)");
        }
        w.flush();
        return 1;
    }
}
