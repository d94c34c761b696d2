package org.peft4j.runner.experiment;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress of a whole comparison: cells done of all cells and an estimate of the time left. A bar on a terminal,
 * plain lines otherwise.
 */
public final class CompareProgress implements AutoCloseable {

    private final PrintWriter out;
    private final int total;
    private final ProgressBar bar;
    private final long started = System.nanoTime();
    private int done;
    private int ran;

    public CompareProgress(PrintWriter out, int total, boolean terminal) {
        this.out = out;
        this.total = total;
        this.bar = terminal ? new ProgressBarBuilder().setTaskName("compare").setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" cells", 1).continuousUpdate().build() : null;
    }

    public void cellStarted(Cell cell) {
        out.printf(Locale.ROOT, "[%d/%d] %s%s%n", done + 1, total, cell.label(), eta());
    }

    /** A cell that was finished before: counted, but it says nothing about how long the others take. */
    public void cellSkipped(Cell cell) {
        done++;
        out.println("skipped " + cell.label() + ": finished before (--force reruns it)");
        step();
    }

    public void cellDone(Cell cell) {
        done++;
        ran++;
        step();
    }

    public void cellFailed(Cell cell, String reason) {
        done++;
        ran++;
        out.println("FAILED " + cell.label() + ": " + reason);
        step();
    }

    private void step() {
        if (bar != null) {
            bar.stepTo(done);
            bar.setExtraMessage(eta());
        }
    }

    private String eta() {
        if (ran == 0) {
            return "";
        }
        double perCell = (System.nanoTime() - started) / 1e9 / ran;
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
