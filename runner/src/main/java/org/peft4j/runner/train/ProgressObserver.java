package org.peft4j.runner.train;

import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A progress bar per epoch with loss, accuracy and images/s; or one line per epoch when not on a terminal. */
public final class ProgressObserver implements StepObserver {

    private final boolean bar;
    private final PrintWriter out;
    private ProgressBar current;
    private String label = "";

    public ProgressObserver(boolean bar, PrintWriter out) {
        this.bar = bar;
        this.out = out;
    }

    @Override
    public void epochStarted(String stage, int epoch, int epochs, int steps) {
        label = (stage.equals("main") ? "" : stage + " ") + "epoch " + (epoch + 1) + "/" + epochs;
        if (bar) {
            current = new ProgressBarBuilder().setTaskName(label).setInitialMax(steps)
                    .setStyle(ProgressBarStyle.ASCII).continuousUpdate().build();
        }
    }

    @Override
    public void stepDone(double loss, double accuracy, double imagesPerSecond) {
        if (current != null) {
            current.step();
            current.setExtraMessage(String.format(Locale.ROOT, " loss %.4f acc %.1f%% %.0f img/s", loss, 100 * accuracy, imagesPerSecond));
        }
    }

    @Override
    public void epochDone(EpochStats stats) {
        if (current != null) {
            current.close();
            current = null;
        }
        out.println(format(label, stats));
    }

    /** A bar over the images while a split is scored, or one line saying what is being scored. */
    @Override
    public void evaluating(String split, int done, int total) {
        if (done == 0) {
            if (bar) {
                current = new ProgressBarBuilder().setTaskName("evaluating " + split).setInitialMax(total)
                        .setStyle(ProgressBarStyle.ASCII).setUnit(" images", 1).continuousUpdate().build();
            } else {
                out.printf(Locale.ROOT, "evaluating on %s (%d images)%n", split, total);
            }
        } else if (current != null) {
            current.stepTo(done);
            if (done >= total) {
                current.close();
                current = null;
            }
        }
    }

    public static String format(String label, EpochStats s) {
        String eval = s.eval() == null ? "" : String.format(Locale.ROOT, "  %s acc %.2f%%", s.eval().split(), 100 * s.eval().accuracy());
        return String.format(Locale.ROOT, "%s  loss %.4f  train acc %.2f%%  lr %.2e  %.1fs  %.0f img/s%s",
                label, s.loss(), 100 * s.accuracy(), s.lr(), s.seconds(), s.imagesPerSecond(), eval);
    }
}
