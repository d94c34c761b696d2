package org.peft4j.runner.experiment;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.peft4j.api.PeftException;
import org.peft4j.runner.results.Json;
import org.peft4j.runner.results.RunDirectory;

/**
 * The sweep point a (dataset, method) keeps: the best accuracy on the tune split (val200 / val), read from the tune
 * cells' results. Test accuracy is never read here. Ties go to the point listed first.
 *
 * @param point the chosen point
 * @param scores tune-split accuracy of every finished point
 * @param failed points whose tune cell failed (they cannot be chosen)
 * @param split the split the scores come from
 */
public record Selection(String point, Map<String, Double> scores, List<String> failed, String split) {

    public static final String FILE = "selection.json";

    /** Chooses among the tune cells of a group; a group without a choice to make keeps its only point. */
    public static Selection choose(Matrix matrix, Matrix.Group group) {
        if (!matrix.tuneThenFinal() || !group.tunes()) {
            return new Selection(group.points().get(0).name(), Map.of(), List.of(), "none");
        }
        Map<String, Double> scores = new LinkedHashMap<>();
        List<String> failed = new ArrayList<>();
        String split = "?";
        String best = null;
        for (CellSpec spec : tuneCells(matrix, group)) {
            Path folder = spec.cell().folder(matrix.output());
            Optional<CellStatus> status = CellStatus.read(folder);
            if (status.isEmpty() || !status.get().ok()) {
                failed.add(spec.cell().point());
                continue;
            }
            JsonObject metrics = Json.read(folder.resolve(RunDirectory.METRICS));
            JsonObject eval = metrics.getAsJsonObject("eval");
            split = eval.get("split").getAsString();
            if (split.startsWith("test")) {
                throw new PeftException(folder + " was scored on " + split + "; a sweep point is never chosen on test");
            }
            double accuracy = eval.get("accuracy").getAsDouble();
            scores.put(spec.cell().point(), accuracy);
            if (best == null || accuracy > scores.get(best)) {
                best = spec.cell().point();
            }
        }
        if (best == null) {
            throw new PeftException("no tune run of " + group.dataset() + "/" + group.method() + " finished (failed: " + failed
                    + "); nothing to choose from");
        }
        return new Selection(best, scores, failed, split);
    }

    private static List<CellSpec> tuneCells(Matrix matrix, Matrix.Group group) {
        List<CellSpec> cells = new ArrayList<>();
        for (Matrix.Point p : group.points()) {
            cells.add(matrix.cell(group, p, "tune", matrix.seeds().get(0)));
        }
        return cells;
    }

    /** Where a group's selection is recorded: {@code <output>/<experiment>/<dataset>/<method>/selection.json}. */
    public static Path file(Matrix matrix, Matrix.Group group) {
        return matrix.output().resolve(matrix.experiment()).resolve(Cell.folderName(group.dataset())).resolve(group.method())
                .resolve(FILE);
    }

    public void write(Path file) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("selected", point);
        json.put("split", split);
        json.put("scores", scores);
        json.put("failed", failed);
        try {
            Files.createDirectories(file.getParent());
            Json.write(file, json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
