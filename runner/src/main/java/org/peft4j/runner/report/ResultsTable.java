package org.peft4j.runner.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.peft4j.api.data.Benchmarks;

/**
 * The papers' table from the final runs: one row per method, one column per dataset (mean and sample std over
 * seeds), VTAB-1k group means with both overall means (mean of the group means, mean of the tasks), the FGVC
 * mean, and trainable parameters in millions.
 */
public final class ResultsTable {

    /** Mean and sample standard deviation (n - 1) of one method on one dataset. */
    public record Score(double mean, double std, int seeds) {

        static Score of(List<Double> values) {
            double mean = values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double ss = values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
            return new Score(mean, values.size() > 1 ? Math.sqrt(ss / (values.size() - 1)) : 0, values.size());
        }
    }

    /** A summary column (group mean, overall mean) and how it is computed. */
    public record Summary(String title, List<String> datasets) {}

    private final List<String> methods;
    private final List<String> datasets;
    private final Map<String, Map<String, Score>> scores;
    private final Map<String, Double> params;
    private final List<Summary> summaries;
    private final List<RunRecord> counted;

    private ResultsTable(List<String> methods, List<String> datasets, Map<String, Map<String, Score>> scores,
            Map<String, Double> params, List<Summary> summaries, List<RunRecord> counted) {
        this.counted = counted;
        this.methods = methods;
        this.datasets = datasets;
        this.scores = scores;
        this.params = params;
        this.summaries = summaries;
    }

    /**
     * Builds the table from the runs: finished final runs, of the selected point where a (dataset/method) key of
     * {@code selected} names one (the final run of another point may be left from an earlier choice). Rows follow {@code methodOrder} (then first
     * seen); columns put VTAB and FGVC tasks in the papers' order, other datasets in {@code datasetOrder}.
     */
    public static ResultsTable of(List<RunRecord> runs, Map<String, String> selected, List<String> methodOrder,
            List<String> datasetOrder) {
        List<RunRecord> finals = runs.stream().filter(r -> r.ok() && r.isFinal())
                .filter(r -> selected.getOrDefault(r.dataset() + "/" + r.method(), r.point()).equals(r.point())).toList();
        Set<String> methodSet = new LinkedHashSet<>();
        Set<String> datasetSet = new LinkedHashSet<>();
        Map<String, Set<String>> pointsPerMethod = new LinkedHashMap<>();
        finals.forEach(r -> pointsPerMethod.computeIfAbsent(r.method() + "|" + r.dataset(), k -> new LinkedHashSet<>()).add(r.point()));
        boolean manyPoints = pointsPerMethod.values().stream().anyMatch(s -> s.size() > 1);
        Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
        Map<String, List<Double>> paramValues = new LinkedHashMap<>();
        for (RunRecord r : finals) {
            String row = manyPoints ? r.method() + " [" + r.point() + "]" : r.method();
            methodSet.add(row);
            datasetSet.add(r.dataset());
            values.computeIfAbsent(row, k -> new LinkedHashMap<>()).computeIfAbsent(r.dataset(), k -> new ArrayList<>())
                    .add(r.accuracy());
            paramValues.computeIfAbsent(row, k -> new ArrayList<>()).add(r.paramsM());
        }
        List<String> datasets = order(firstBy(datasetOrder, datasetSet));
        Map<String, Map<String, Score>> scores = new LinkedHashMap<>();
        values.forEach((m, byDataset) -> {
            Map<String, Score> row = new LinkedHashMap<>();
            byDataset.forEach((d, v) -> row.put(d, Score.of(v)));
            scores.put(m, row);
        });
        Map<String, Double> params = new LinkedHashMap<>();
        paramValues.forEach((m, v) -> params.put(m, v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN)));
        return new ResultsTable(firstBy(methodOrder, methodSet), datasets, scores, params, summaries(datasets), finals);
    }

    /** The found names, those in {@code order} first and in its order (a row label "m [point]" follows m). */
    private static List<String> firstBy(List<String> order, Set<String> found) {
        List<String> out = new ArrayList<>();
        for (String name : order) {
            found.stream().filter(f -> (f.equals(name) || f.startsWith(name + " [")) && !out.contains(f)).forEach(out::add);
        }
        found.stream().filter(f -> !out.contains(f)).forEach(out::add);
        return out;
    }

    /** VTAB tasks in the papers' order (by group), then FGVC in theirs, then any other dataset as found. */
    private static List<String> order(List<String> found) {
        List<String> out = new ArrayList<>();
        for (String task : Benchmarks.vtabTasks()) {
            found.stream().filter(d -> Benchmarks.vtabTask(d).orElse("").equals(task)).forEach(out::add);
        }
        for (String task : Benchmarks.fgvcTasks()) {
            found.stream().filter(d -> Benchmarks.fgvcTask(d).orElse("").equals(task)).forEach(out::add);
        }
        found.stream().filter(d -> !out.contains(d)).forEach(out::add);
        return out;
    }

    private static List<Summary> summaries(List<String> datasets) {
        List<Summary> out = new ArrayList<>();
        List<String> vtab = datasets.stream().filter(d -> Benchmarks.vtabTask(d).isPresent()).toList();
        List<String> fgvc = datasets.stream().filter(d -> Benchmarks.fgvcTask(d).isPresent()).toList();
        List<String> other = datasets.stream().filter(d -> !vtab.contains(d) && !fgvc.contains(d)).toList();
        if (!vtab.isEmpty()) {
            List<String> groupTitles = new ArrayList<>();
            for (Benchmarks.VtabGroup g : Benchmarks.VtabGroup.values()) {
                List<String> members = vtab.stream().filter(d -> Benchmarks.vtabGroup(d).orElseThrow() == g).toList();
                if (!members.isEmpty()) {
                    String title = g.title() + " (" + members.size() + ")";
                    out.add(new Summary(title, members));
                    groupTitles.add(title);
                }
            }
            out.add(new Summary("Mean of " + groupTitles.size() + " group means", List.of()));
            out.add(new Summary("Mean of " + vtab.size() + " tasks", vtab));
        }
        if (!fgvc.isEmpty()) {
            out.add(new Summary("FGVC mean (" + fgvc.size() + ")", fgvc));
        }
        if (!other.isEmpty() && other.size() > 1) {
            out.add(new Summary("Mean (" + other.size() + ")", other));
        }
        return out;
    }

    /** The runs the table counts. */
    public List<RunRecord> runs() {
        return counted;
    }

    public List<String> methods() {
        return methods;
    }

    public List<String> datasets() {
        return datasets;
    }

    public List<Summary> summaries() {
        return summaries;
    }

    public Optional<Score> score(String method, String dataset) {
        return Optional.ofNullable(scores.getOrDefault(method, Map.of()).get(dataset));
    }

    public double paramsM(String method) {
        return params.getOrDefault(method, Double.NaN);
    }

    /**
     * A summary column's value for a method: the mean of its dataset means over the summary's datasets, or for the
     * "mean of group means" the mean of the group columns; NaN if the method lacks one of them.
     */
    public double summary(String method, Summary summary) {
        if (summary.datasets().isEmpty()) { // mean of the group means
            List<Summary> groups = summaries.stream().filter(s -> Benchmarks.vtabGroup(s.datasets().isEmpty() ? ""
                    : s.datasets().get(0)).isPresent() && !s.title().startsWith("Mean")).toList();
            return mean(groups.stream().map(g -> summary(method, g)).toList());
        }
        return mean(summary.datasets().stream().map(d -> score(method, d).map(Score::mean).orElse(Double.NaN)).toList());
    }

    private static double mean(List<Double> values) {
        if (values.isEmpty() || values.stream().anyMatch(v -> v.isNaN())) {
            return Double.NaN;
        }
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
