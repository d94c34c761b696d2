package org.peft4j.runner.cli;

import com.google.inject.Guice;
import com.google.inject.Injector;
import java.io.PrintWriter;
import org.peft4j.api.PeftException;
import org.peft4j.runner.RunnerModule;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code peft4j} command line. */
@Command(name = "peft4j", mixinStandardHelpOptions = true, version = "peft4j 0.1.0",
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
            PrintWriter w = commandLine.getErr();
            w.println("error: " + message(e));
            if (debug) {
                e.printStackTrace(w);
            } else if (!(root(e) instanceof PeftException)) {
                w.println("(run with --debug for the stack trace)");
            }
            w.flush();
            return 1;
        });
        return cli.execute(args);
    }

    /** The user-facing message: the innermost PeftException's, else the exception's own. */
    static String message(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PeftException) {
                return t.getMessage();
            }
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static Throwable root(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PeftException) {
                return t;
            }
        }
        return e;
    }
}
