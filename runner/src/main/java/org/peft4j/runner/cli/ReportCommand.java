package org.peft4j.runner.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.peft4j.runner.report.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code peft4j report results/exp}: tables and charts from a results tree (works while runs are still going). */
@Command(name = "report", mixinStandardHelpOptions = true, versionProvider = ManifestVersion.class,
        description = "Write Markdown/CSV tables and PNG charts for each experiment under a results folder, and print the tables.")
public final class ReportCommand implements Callable<Integer> {

    @Mixin CommonOptions common;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "An experiment's results folder, or a folder of several.")
    Path dir;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (Path experiment : Report.experimentFolders(dir)) {
            Report report = Report.write(experiment);
            out.print(report.markdown());
            out.println("report: " + report.folder());
            out.println();
        }
        out.flush();
        return 0;
    }
}
