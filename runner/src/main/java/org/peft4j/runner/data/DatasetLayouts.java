package org.peft4j.runner.data;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.peft4j.api.PeftException;
import org.peft4j.runner.config.Settings;

/**
 * Reads the on-disk layouts the field uses.
 *
 * <ul>
 *   <li>VTAB-1k: {@code <root>/<name>/{train800,val200,train800val200,test}.txt}, lines {@code <relative image
 *       path> <0-based label>} (split at the last space), images under {@code <root>/<name>/}.
 *   <li>FGVC (VPT's splits): {@code <root>/<name>/{train,val,test}.json}, {@code {relative_image_path:
 *       class_id}}; ids remapped to 0..C-1 in sorted order; images under an image folder per dataset.
 * </ul>
 */
public final class DatasetLayouts {

    /** The FGVC image folders VPT's json splits are relative to. */
    private static final Map<String, String> FGVC_IMAGE_DIRS = Map.of(
            "cub", "images", "CUB_200_2011", "images", "nabirds", "images", "stanford_dogs", "Images",
            "StanfordDogs", "Images");

    private DatasetLayouts() {}

    /** The training and evaluation splits of the protocol: final = train800val200 -> test, tune = train800 -> val200. */
    public static SplitList[] splits(Settings.Data data) {
        Path folder = data.root().resolve(data.name());
        if (!Files.isDirectory(folder)) {
            throw new PeftException("dataset folder not found: " + folder + " (expected " + data.root() + "/<data.name>/ with "
                    + (data.format().equals("vtab") ? "train800.txt, val200.txt, train800val200.txt, test.txt" : "train.json, val.json, test.json")
                    + ")");
        }
        boolean fin = data.protocol().equals("final");
        if (data.format().equals("vtab")) {
            SplitList train = readVtab(folder, fin ? "train800val200" : "train800");
            SplitList eval = readVtab(folder, fin ? "test" : "val200");
            int classes = Math.max(train.numClasses(), eval.numClasses());
            return new SplitList[] {withClasses(train, classes), withClasses(eval, classes)};
        }
        Path images = folder.resolve(imageDir(data));
        TreeSet<Integer> ids = new TreeSet<>();
        Map<String, Map<String, Integer>> raw = new TreeMap<>();
        for (String split : List.of("train", "val", "test")) {
            raw.put(split, readJson(folder.resolve(split + ".json")));
            ids.addAll(raw.get(split).values());
        }
        List<Integer> order = List.copyOf(ids);
        SplitList train = fgvcSplit(fin ? List.of("train", "val") : List.of("train"), raw, images, order);
        SplitList eval = fgvcSplit(List.of(fin ? "test" : "val"), raw, images, order);
        return new SplitList[] {train, eval};
    }

    private static String imageDir(Settings.Data data) {
        if (!data.imageDir().equals("auto")) {
            return data.imageDir();
        }
        return FGVC_IMAGE_DIRS.getOrDefault(data.name(), "");
    }

    private static SplitList withClasses(SplitList list, int classes) {
        return new SplitList(list.name(), list.samples(), classes);
    }

    /** Reads one VTAB list file. */
    public static SplitList readVtab(Path folder, String split) {
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
        List<Sample> samples = new ArrayList<>();
        int maxLabel = -1;
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
                throw new PeftException(where + ": expected '<relative image path> <label>', got '" + line + "'");
            }
            if (label < 0) {
                throw new PeftException(where + ": labels are 0-based class indices, got " + label);
            }
            samples.add(new Sample(folder.resolve(line.substring(0, space).strip()), label, where));
            maxLabel = Math.max(maxLabel, label);
        }
        if (samples.isEmpty()) {
            throw new PeftException(list + " lists no images");
        }
        return new SplitList(split, samples, maxLabel + 1);
    }

    private static Map<String, Integer> readJson(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new PeftException("split file not found: " + file + " (an FGVC folder has train.json, val.json, test.json)");
        }
        Config json;
        try {
            json = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON));
        } catch (ConfigException e) {
            throw new PeftException("cannot parse " + file + ": " + e.getMessage());
        }
        Map<String, Integer> out = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> e : json.root().entrySet()) {
            Object value = e.getValue().unwrapped();
            if (!(value instanceof Number n)) {
                throw new PeftException(file + ": value of '" + e.getKey() + "' must be a class id, got " + value);
            }
            out.put(e.getKey(), n.intValue());
        }
        return out;
    }

    private static SplitList fgvcSplit(List<String> parts, Map<String, Map<String, Integer>> raw, Path images, List<Integer> order) {
        List<Sample> samples = new ArrayList<>();
        for (String part : parts) {
            raw.get(part).forEach((path, id) -> samples.add(new Sample(images.resolve(path), order.indexOf(id), part + ".json key " + path)));
        }
        return new SplitList(String.join("+", parts), samples, order.size());
    }
}
