package org.peft4j.runner.data;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.peft4j.api.PeftException;
import org.peft4j.runner.config.Settings;

/**
 * Reads the on-disk layouts the field uses, and the task's classes from the training split.
 *
 * <ul>
 *   <li>VTAB-1k: {@code <root>/<name>/{train800,val200,train800val200,test}.txt}, lines {@code <relative image
 *       path> <0-based label>} (split at the last space), images under {@code <root>/<name>/}. The labels must be
 *       the class indices 0..C-1, C = the training split's distinct labels (or {@code data.num-classes}).
 *   <li>FGVC (VPT's splits): {@code <root>/<name>/{train,val,test}.json}, {@code {relative_image_path:
 *       class_id}}; the training split's ids remapped to 0..C-1 in sorted order; images under an image folder per
 *       dataset.
 * </ul>
 *
 * An evaluation label the model has no output for is an error naming the file, line (or key) and value: it could
 * only ever count as wrong. Every problem of both lists is reported at once.
 */
public final class DatasetLayouts {

    /** The FGVC image folders VPT's json splits are relative to. */
    private static final Map<String, String> FGVC_IMAGE_DIRS = Map.of(
            "cub", "images", "CUB_200_2011", "images", "nabirds", "images", "stanford_dogs", "Images",
            "StanfordDogs", "Images");

    /** Bad labels listed per split before "and n more". */
    private static final int SHOWN = 5;

    /** A line of a split file before its label is mapped. */
    private record Entry(String path, int label, String where) {}

    /** The entries of one split file (or several concatenated), named for messages. */
    private record RawSplit(String name, String files, List<Entry> entries) {}

    private DatasetLayouts() {}

    /**
     * The training and evaluation splits of the protocol (final = train800val200 -> test, tune = train800 -> val200),
     * with one label map built from the training split.
     */
    public static SplitList[] splits(Settings.Data data) {
        Path folder = data.root().resolve(data.name());
        if (!Files.isDirectory(folder)) {
            throw new PeftException("dataset folder not found: " + folder + " (expected " + data.root() + "/<data.name>/ with "
                    + (data.format().equals("vtab") ? "train800.txt, val200.txt, train800val200.txt, test.txt" : "train.json, val.json, test.json")
                    + ")");
        }
        boolean fin = data.protocol().equals("final");
        RawSplit train;
        RawSplit eval;
        Path images;
        if (data.format().equals("vtab")) {
            train = readVtab(folder, fin ? "train800val200" : "train800");
            eval = readVtab(folder, fin ? "test" : "val200");
            images = folder;
        } else {
            train = readFgvc(folder, fin ? List.of("train", "val") : List.of("train"));
            eval = readFgvc(folder, List.of(fin ? "test" : "val"));
            images = folder.resolve(imageDir(data));
        }
        List<String> problems = new ArrayList<>();
        for (RawSplit split : List.of(train, eval)) {
            if (split.entries().isEmpty()) {
                problems.add(split.files() + " lists no images: " + (split == train ? "there is nothing to train on"
                        : "there is nothing to evaluate on") + " (one '" + (data.format().equals("vtab") ? "<image path> <label>' per line"
                        : "\"<image path>\": <class id>' entry per image") + ")");
            }
        }
        PeftException.throwIfAny(problems);
        LabelMap labels = data.format().equals("vtab") ? vtabLabels(train, data.numClasses(), problems)
                : fgvcLabels(train, data.numClasses(), problems);
        checkCovered(eval, labels, train.files(), problems);
        PeftException.throwIfAny(problems);
        return new SplitList[] {mapped(train, labels, images), mapped(eval, labels, images)};
    }

    /** VTAB labels are class indices: 0..C-1 with C the training split's distinct labels, or data.num-classes. */
    private static LabelMap vtabLabels(RawSplit train, int numClasses, List<String> problems) {
        TreeSet<Integer> distinct = new TreeSet<>();
        train.entries().forEach(e -> distinct.add(e.label()));
        int classes = numClasses > 0 ? numClasses : distinct.size();
        String why = numClasses > 0 ? "data.num-classes = " + numClasses
                : train.files() + " has " + classes + " distinct labels, so its 0-based labels must be 0.." + (classes - 1);
        String hint = numClasses > 0 ? "" : distinct.first() > 0 ? "; they look " + distinct.first() + "-based (no label 0)"
                : "; a typo? If some classes have no training image, set data.num-classes = " + (distinct.last() + 1);
        List<String> bad = new ArrayList<>();
        for (Entry e : train.entries()) {
            if (e.label() >= classes) {
                bad.add(e.where() + ": label " + e.label() + " is not a class index 0.." + (classes - 1) + " (" + why + hint + ")");
            }
        }
        problems.addAll(limited(bad, train.files()));
        return LabelMap.dense(classes, distinct, train.files());
    }

    /** FGVC ids are arbitrary: the training split's distinct ids, sorted, are the classes. */
    private static LabelMap fgvcLabels(RawSplit train, int numClasses, List<String> problems) {
        TreeSet<Integer> ids = new TreeSet<>();
        train.entries().forEach(e -> ids.add(e.label()));
        if (numClasses > 0 && numClasses != ids.size()) {
            problems.add("data.num-classes = " + numClasses + " but " + train.files() + " has " + ids.size()
                    + " distinct class ids (" + ids.first() + ".." + ids.last() + "); FGVC classes are the training split's ids:"
                    + " leave data.num-classes at 0");
        }
        return LabelMap.sortedIds(ids, train.files());
    }

    private static void checkCovered(RawSplit eval, LabelMap labels, String trainFiles, List<String> problems) {
        List<String> bad = new ArrayList<>();
        for (Entry e : eval.entries()) {
            if (!labels.contains(e.label())) {
                bad.add(e.where() + ": label " + e.label() + " is not a class the model can predict (its " + labels.numClasses()
                        + " classes are the labels " + range(labels) + " of " + trainFiles + ")");
            }
        }
        problems.addAll(limited(bad, eval.files()));
    }

    private static String range(LabelMap labels) {
        List<Integer> all = labels.labels();
        return all.get(0) + ".." + all.get(all.size() - 1);
    }

    private static List<String> limited(List<String> bad, String files) {
        if (bad.size() <= SHOWN) {
            return bad;
        }
        List<String> out = new ArrayList<>(bad.subList(0, SHOWN));
        out.add("... and " + (bad.size() - SHOWN) + " more bad labels in " + files);
        return out;
    }

    private static SplitList mapped(RawSplit split, LabelMap labels, Path images) {
        List<Sample> samples = new ArrayList<>(split.entries().size());
        for (Entry e : split.entries()) {
            samples.add(new Sample(images.resolve(e.path()), labels.index(e.label()), e.where()));
        }
        return new SplitList(split.name(), samples, labels);
    }

    private static String imageDir(Settings.Data data) {
        if (!data.imageDir().equals("auto")) {
            return data.imageDir();
        }
        return FGVC_IMAGE_DIRS.getOrDefault(data.name(), "");
    }

    /** Reads one VTAB list file: every malformed line is reported. */
    private static RawSplit readVtab(Path folder, String split) {
        Path list = folder.resolve(split + ".txt");
        if (!Files.isRegularFile(list)) {
            throw new PeftException("split list not found: " + list + " (a VTAB-1k folder has train800.txt, val200.txt, train800val200.txt, test.txt)");
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(list);
        } catch (IOException e) {
            throw new PeftException("cannot read " + list + ": " + e.getMessage());
        }
        List<Entry> entries = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = list + " line " + (i + 1);
            int space = line.lastIndexOf(' ');
            int label;
            try {
                if (space <= 0) {
                    throw new NumberFormatException();
                }
                label = Integer.parseInt(line.substring(space + 1).strip());
            } catch (NumberFormatException e) {
                bad.add(where + ": expected '<relative image path> <label>', got '" + line + "'");
                continue;
            }
            if (label < 0) {
                bad.add(where + ": labels are 0-based class indices, got " + label);
                continue;
            }
            entries.add(new Entry(line.substring(0, space).strip(), label, where));
        }
        PeftException.throwIfAny(limited(bad, list.toString()));
        return new RawSplit(split, list.toString(), entries);
    }

    /** Reads and concatenates FGVC json splits ({@code {"relative/path.jpg": class_id, ...}}). */
    private static RawSplit readFgvc(Path folder, List<String> parts) {
        List<Entry> entries = new ArrayList<>();
        List<String> files = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (String part : parts) {
            Path file = folder.resolve(part + ".json");
            files.add(file.toString());
            for (Map.Entry<String, JsonElement> e : readJson(file).entrySet()) {
                String where = file + " entry \"" + e.getKey() + "\"";
                Integer id = classId(e.getValue());
                if (id == null) {
                    bad.add(where + ": expected an integer class id, got " + e.getValue());
                } else {
                    entries.add(new Entry(e.getKey(), id, where));
                }
            }
        }
        String names = String.join(" + ", files);
        PeftException.throwIfAny(limited(bad, names));
        return new RawSplit(String.join("+", parts), names, entries);
    }

    private static Integer classId(JsonElement value) {
        if (!(value instanceof JsonPrimitive p) || !p.isNumber()) {
            return null;
        }
        BigDecimal number = p.getAsBigDecimal();
        try {
            return number.intValueExact();
        } catch (ArithmeticException e) {
            return null; // a fraction or out of int range
        }
    }

    private static JsonObject readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PeftException("split file not found: " + file + " (an FGVC folder has train.json, val.json, test.json)");
        }
        try (Reader reader = Files.newBufferedReader(file)) {
            JsonElement root = JsonParser.parseReader(reader);
            if (!root.isJsonObject()) {
                throw new PeftException(file + ": expected a JSON object {\"<image path>\": <class id>, ...}");
            }
            return root.getAsJsonObject();
        } catch (JsonParseException e) {
            String message = e.getCause() != null && e.getCause().getMessage() != null ? e.getCause().getMessage() : e.getMessage();
            throw new PeftException("cannot parse " + file + " as JSON: " + message);
        } catch (IOException e) {
            throw new PeftException("cannot read " + file + ": " + e.getMessage());
        }
    }
}
