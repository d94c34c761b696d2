package org.peft4j.runner.experiment;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a whole comparison: cells done of all cells and an estimate of the time left (from the cells this
 * process trained; skipped cells cost nothing). A bar on a terminal, plain lines otherwise.
 */
public final class CompareProgress implements AutoCloseable {

    private final PrintStream out;
    private final int total;
    private final ProgressBar bar;
    private final long started = System.nanoTime();
    private int done;
    private int trained;

    public CompareProgress(PrintStream out, int total, boolean terminal) {
        this.out = out;
        this.total = total;
        this.bar = terminal ? new ProgressBarBuilder().setTaskName("compare").setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" cells", 1).continuousUpdate().build() : null;
    }

    public void cellStarted(Cell cell) {
        out.printf(Locale.ROOT, "[%d/%d] %s%s%n", done + 1, total, cell.label(), eta());
    }

    public void cellDone(Cell cell, boolean skipped) {
        done++;
        if (!skipped) {
            trained++;
        }
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(eta());
        }
    }

    public void cellFailed(Cell cell, String reason) {
        done++;
        out.println("FAILED " + cell.label() + ": " + reason);
        if (bar != null) {
            bar.stepTo(done);
        }
    }

    private String eta() {
        if (trained == 0) {
            return "";
        }
        double perCell = (System.nanoTime() - started) / 1e9 / trained;
        Duration left = Duration.ofSeconds(Math.round(perCell * (total - done)));
        return String.format(Locale.ROOT, "  (about %dm%02ds left)", left.toMinutes(), left.toSecondsPart());
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
