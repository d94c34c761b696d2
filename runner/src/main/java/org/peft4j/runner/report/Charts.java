package org.peft4j.runner.report;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.peft4j.api.io.AtomicFiles;

/** The report's PNG charts (XChart): accuracy per method and dataset, accuracy vs parameters, learning curves. */
final class Charts {

    static {
        System.setProperty("java.awt.headless", "true"); // servers and CI have no display
    }

    private static final int WIDTH = 900;
    private static final int HEIGHT = 500;

    private Charts() {}

    /** Grouped bars: test accuracy (%) per dataset, one colour per method, seed std as error bars. */
    static void accuracy(Path file, ResultsTable table, String title) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("dataset").yAxisTitle("test accuracy (%)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setXAxisLabelRotation(30);
        for (String method : table.methods()) {
            List<String> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            List<Double> err = new ArrayList<>();
            for (String dataset : table.datasets()) {
                table.score(method, dataset).ifPresent(s -> {
                    x.add(dataset);
                    y.add(100 * s.mean());
                    err.add(100 * s.std());
                });
            }
            if (!x.isEmpty()) {
                chart.addSeries(method, x, y, err);
            }
        }
        save(file, chart);
    }

    /** The usual PEFT plot: mean accuracy over the datasets against trainable parameters (log scale). */
    static void accuracyVsParameters(Path file, ResultsTable table, String title) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("trainable parameters (M, log scale)").yAxisTitle("mean test accuracy (%)").build();
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter).setXAxisLogarithmic(true)
                .setLegendPosition(Styler.LegendPosition.OutsideE).setMarkerSize(12);
        for (String method : table.methods()) {
            double params = table.paramsM(method);
            List<Double> accuracies = new ArrayList<>();
            table.datasets().forEach(d -> table.score(method, d).ifPresent(s -> accuracies.add(s.mean())));
            if (accuracies.isEmpty() || !(params > 0)) {
                continue; // a linear probe trains no backbone parameter: nothing to place on a log axis
            }
            double mean = accuracies.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            chart.addSeries(method, new double[] {params}, new double[] {100 * mean});
        }
        save(file, chart);
    }

    /** Training loss per epoch of each method on one dataset (its first seed). */
    static void learningCurves(Path file, String dataset, List<RunRecord> runs) throws IOException {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title("training loss on " + dataset)
                .xAxisTitle("epoch").yAxisTitle("training loss").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        Map<String, RunRecord> first = new LinkedHashMap<>();
        runs.stream().filter(r -> r.dataset().equals(dataset) && r.ok() && r.isFinal() && !r.lossCurve().isEmpty())
                .forEach(r -> first.putIfAbsent(r.method() + (r.point().equals("default") ? "" : " [" + r.point() + "]"), r));
        first.forEach((name, r) -> {
            double[] x = new double[r.lossCurve().size()];
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = i + 1;
                y[i] = r.lossCurve().get(i);
            }
            chart.addSeries(name, x, y).setMarker(SeriesMarkers.NONE);
        });
        save(file, chart);
    }

    private static void save(Path file, Chart<?, ?> chart) throws IOException {
        AtomicFiles.write(file, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
