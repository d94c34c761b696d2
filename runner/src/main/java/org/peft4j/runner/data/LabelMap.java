package org.peft4j.runner.data;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The classes of a task: how many outputs the classifier has and which label of the split files each output
 * stands for. VTAB-1k labels are already the class indices 0..C-1 (the identity map); FGVC class ids are
 * remapped to 0..C-1 in sorted order. Built from the training split, so every class the model learns has a row.
 */
public final class LabelMap {

    private final TreeMap<Integer, Integer> toIndex;
    private final boolean identity;
    private final String source;
    private final SortedSet<Integer> unseen;

    private LabelMap(TreeMap<Integer, Integer> toIndex, boolean identity, String source, SortedSet<Integer> unseen) {
        this.toIndex = toIndex;
        this.identity = identity;
        this.source = source;
        this.unseen = unseen;
    }

    /**
     * Class indices 0..{@code numClasses}-1 used as they are.
     *
     * @param trainLabels the labels the training split holds (classes missing from it are reported by {@link #describe})
     * @param source where the classes come from, for messages ({@code "train800val200.txt"})
     */
    public static LabelMap dense(int numClasses, Collection<Integer> trainLabels, String source) {
        TreeMap<Integer, Integer> map = new TreeMap<>();
        TreeSet<Integer> unseen = new TreeSet<>();
        for (int i = 0; i < numClasses; i++) {
            map.put(i, i);
            if (!trainLabels.contains(i)) {
                unseen.add(i);
            }
        }
        return new LabelMap(map, true, source, unseen);
    }

    /** Arbitrary class ids mapped to 0..C-1 in sorted order (FGVC). */
    public static LabelMap sortedIds(Collection<Integer> ids, String source) {
        TreeMap<Integer, Integer> map = new TreeMap<>();
        for (int id : new TreeSet<>(ids)) {
            map.put(id, map.size());
        }
        return new LabelMap(map, false, source, new TreeSet<>());
    }

    public int numClasses() {
        return toIndex.size();
    }

    /** The classifier output of a file label, or -1 if the model has no output for it. */
    public int index(int label) {
        return toIndex.getOrDefault(label, -1);
    }

    public boolean contains(int label) {
        return toIndex.containsKey(label);
    }

    /** The labels as written in the files, in output order. */
    public List<Integer> labels() {
        return List.copyOf(toIndex.keySet());
    }

    /** {@code "<file label>": output index}, for metrics.json. */
    public Map<String, Integer> asMap() {
        Map<String, Integer> out = new LinkedHashMap<>();
        toIndex.forEach((label, index) -> out.put(Integer.toString(label), index));
        return out;
    }

    /** One line for the run's output: how many classes, from where, how they map. */
    public String describe() {
        String range = toIndex.isEmpty() ? "none" : toIndex.firstKey() + ".." + toIndex.lastKey();
        String line = numClasses() + " classes (" + (identity ? "labels " + range + " of " + source + ", used as they are"
                : "class ids " + range + " of " + source + ", remapped to 0.." + (numClasses() - 1) + " in sorted order") + ")";
        if (!unseen.isEmpty()) {
            line += "; the training split has no image of class" + (unseen.size() == 1 ? " " : "es ") + abbreviated(unseen);
        }
        return line;
    }

    /** The classes of the map with no training image (possible only with an explicit data.num-classes). */
    public SortedSet<Integer> unseen() {
        return unseen;
    }

    private static String abbreviated(SortedSet<Integer> values) {
        List<Integer> list = List.copyOf(values);
        return list.size() <= 10 ? list.toString() : list.subList(0, 10).toString().replace("]", ", ... (" + list.size() + ")]");
    }
}
