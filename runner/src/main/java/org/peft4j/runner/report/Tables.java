package org.peft4j.runner.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The report's text tables: Markdown as the papers print them, and CSV. Accuracies in percent. */
final class Tables {

    /** A recorded sweep-point choice. */
    record Choice(String dataset, String method, String point, String split, double accuracy) {}

    private Tables() {}

    static String markdown(String experiment, ResultsTable table, List<RunRecord> runs, List<Choice> choices) {
        StringBuilder md = new StringBuilder();
        int maxSeeds = table.methods().stream().flatMap(m -> table.datasets().stream().map(d -> table.score(m, d)))
                .filter(java.util.Optional::isPresent).mapToInt(s -> s.get().seeds()).max().orElse(0);
        md.append("## ").append(experiment).append(": test accuracy (%)")
                .append(maxSeeds > 1 ? ", mean ± std over " + maxSeeds + " seeds" : "").append("\n\n");
        if (table.methods().isEmpty()) {
            md.append("No finished final run yet.\n");
        } else {
            List<String> header = new ArrayList<>(List.of("Method", "Params (M)"));
            header.addAll(table.datasets());
            table.summaries().forEach(s -> header.add(s.title()));
            md.append(row(header));
            List<String> rule = new ArrayList<>(List.of("---"));
            for (int i = 1; i < header.size(); i++) {
                rule.add("---:");
            }
            md.append(row(rule));
            for (String method : table.methods()) {
                List<String> cells = new ArrayList<>(List.of(method, params(table.paramsM(method))));
                for (String dataset : table.datasets()) {
                    cells.add(table.score(method, dataset).map(s -> score(s, maxSeeds)).orElse("-"));
                }
                table.summaries().forEach(s -> cells.add(Report.percent(table.summary(method, s))));
                md.append(row(cells));
            }
        }
        if (!choices.isEmpty()) {
            md.append("\n### Selected sweep points (best validation accuracy; test is never used)\n\n");
            md.append(row(List.of("Dataset", "Method", "Point", "Split", "Accuracy (%)")));
            md.append(row(List.of("---", "---", "---", "---", "---:")));
            choices.forEach(c -> md.append(row(List.of(c.dataset(), c.method(), c.point(), c.split(), Report.percent(c.accuracy())))));
        }
        long failed = runs.stream().filter(r -> r.status().equals("failed")).count();
        if (failed > 0) {
            md.append("\n").append(failed).append(" run(s) failed; see runs.csv.\n");
        }
        return md.toString();
    }

    static String csv(ResultsTable table) {
        List<String> header = new ArrayList<>(List.of("method", "params_m"));
        for (String d : table.datasets()) {
            header.add(d + "_mean");
            header.add(d + "_std");
            header.add(d + "_seeds");
        }
        table.summaries().forEach(s -> header.add(s.title()));
        StringBuilder csv = new StringBuilder(csvRow(header));
        for (String method : table.methods()) {
            List<String> cells = new ArrayList<>(List.of(method, number(table.paramsM(method))));
            for (String d : table.datasets()) {
                var s = table.score(method, d);
                cells.add(s.map(x -> number(100 * x.mean())).orElse(""));
                cells.add(s.map(x -> number(100 * x.std())).orElse(""));
                cells.add(s.map(x -> Integer.toString(x.seeds())).orElse("0"));
            }
            table.summaries().forEach(sum -> cells.add(number(100 * table.summary(method, sum))));
            csv.append(csvRow(cells));
        }
        return csv.toString();
    }

    static String runsCsv(List<RunRecord> runs) {
        StringBuilder csv = new StringBuilder(csvRow(List.of("experiment", "dataset", "method", "point", "protocol", "seed",
                "status", "split", "accuracy", "trainable_params_m", "folder")));
        for (RunRecord r : runs) {
            csv.append(csvRow(List.of(r.experiment(), r.dataset(), r.method(), r.point(), r.protocol(), Long.toString(r.seed()),
                    r.status(), r.split(), number(100 * r.accuracy()), number(r.paramsM()), r.folder().toString())));
        }
        return csv.toString();
    }

    static String selectionCsv(List<Choice> choices) {
        StringBuilder csv = new StringBuilder(csvRow(List.of("dataset", "method", "selected_point", "split", "accuracy")));
        choices.forEach(c -> csv.append(csvRow(List.of(c.dataset(), c.method(), c.point(), c.split(), number(100 * c.accuracy())))));
        return csv.toString();
    }

    private static String score(ResultsTable.Score s, int maxSeeds) {
        String text = s.seeds() > 1 ? String.format(Locale.ROOT, "%.2f ± %.2f", 100 * s.mean(), 100 * s.std())
                : String.format(Locale.ROOT, "%.2f", 100 * s.mean());
        return s.seeds() < maxSeeds ? text + " (" + s.seeds() + " seed" + (s.seeds() == 1 ? "" : "s") + ")" : text;
    }

    private static String params(double m) {
        return Double.isNaN(m) ? "-" : String.format(Locale.ROOT, "%.3f", m);
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String row(List<String> cells) {
        return "| " + String.join(" | ", cells) + " |\n";
    }

    private static String csvRow(List<String> cells) {
        return cells.stream().map(Tables::quote).collect(Collectors.joining(",")) + "\n";
    }

    private static String quote(String cell) {
        return cell.contains(",") || cell.contains("\"") || cell.contains("\n") ? "\"" + cell.replace("\"", "\"\"") + "\"" : cell;
    }
}
