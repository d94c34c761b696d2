package org.peft4j.runner.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.peft4j.api.PeftException;
import org.peft4j.runner.config.Settings;

/** The class count and label mapping come from the training split; labels the model cannot predict are errors. */
class LabelsTest {

    @TempDir Path root;

    /** A VTAB folder {@code root/t} whose lists hold the given labels (image paths need not exist here). */
    private void vtab(List<Integer> train, List<Integer> test) throws IOException {
        Path dir = Files.createDirectories(root.resolve("t"));
        Files.write(dir.resolve("train800val200.txt"), lines("train", train));
        Files.write(dir.resolve("train800.txt"), lines("train", train));
        Files.write(dir.resolve("test.txt"), lines("test", test));
        Files.write(dir.resolve("val200.txt"), lines("test", test));
    }

    private static List<String> lines(String split, List<Integer> labels) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            out.add("images/" + split + "/" + i + ".png " + labels.get(i));
        }
        return out;
    }

    private static List<Integer> range(int from, int to) {
        List<Integer> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            out.add(i);
        }
        return out;
    }

    private Settings.Data data(String extra) {
        return Settings.Data.from(ConfigFactory.parseString("root = \"" + root + "\", name = t\n" + extra)
                .withFallback(ConfigFactory.defaultReference().getConfig("peft4j.data")), "test.conf");
    }

    @Test
    void vtabClassesAreTheTrainingSplitsDistinctLabels() throws IOException {
        vtab(range(0, 10), List.of(9, 0, 3));
        SplitList[] splits = DatasetLayouts.splits(data(""));
        assertThat(splits[0].numClasses()).isEqualTo(10);
        assertThat(splits[1].labels()).isSameAs(splits[0].labels());
        assertThat(splits[1].samples()).extracting(Sample::label).containsExactly(9, 0, 3);
        assertThat(splits[0].labels().asMap()).hasSize(10).containsEntry("0", 0).containsEntry("9", 9);
        assertThat(splits[0].labels().describe()).isEqualTo("10 classes (labels 0..9 of " + root.resolve("t/train800val200.txt")
                + ", used as they are)");
    }

    @Test
    void aTypoedLabelIsAnErrorNamingFileLineAndValueNotAnExtraClass() throws IOException {
        List<Integer> train = range(0, 10);
        train.set(4, 99); // line 5; class 4 still has images elsewhere
        train.add(4);
        vtab(train, List.of(0));
        assertThatThrownBy(() -> DatasetLayouts.splits(data(""))).isInstanceOf(PeftException.class)
                .hasMessage(root.resolve("t/train800val200.txt") + " line 5: label 99 is not a class index 0..10 ("
                        + root.resolve("t/train800val200.txt") + " has 11 distinct labels, so its 0-based labels must be 0..10;"
                        + " a typo? If some classes have no training image, set data.num-classes = 100)");
    }

    @Test
    void oneBasedLabelsAreAnErrorNotAnElevenClassHead() throws IOException {
        vtab(range(1, 11), List.of(1, 10));
        assertThatThrownBy(() -> DatasetLayouts.splits(data(""))).isInstanceOf(PeftException.class)
                .hasMessageContaining("train800val200.txt line 10: label 10 is not a class index 0..9")
                .hasMessageContaining("they look 1-based (no label 0)")
                // the test list's 10 is reported too, in the same error
                .hasMessageContaining("test.txt line 2: label 10 is not a class the model can predict");
    }

    @Test
    void anEvaluationLabelOutsideTheTrainingClassesIsAnError() throws IOException {
        vtab(range(0, 10), List.of(0, 1, 12, 3));
        assertThatThrownBy(() -> DatasetLayouts.splits(data(""))).isInstanceOf(PeftException.class)
                .hasMessage(root.resolve("t/test.txt") + " line 3: label 12 is not a class the model can predict (its 10 classes"
                        + " are the labels 0..9 of " + root.resolve("t/train800val200.txt") + ")");
    }

    @Test
    void explicitNumClassesAllowsClassesWithoutTrainingImagesAndSaysWhich() throws IOException {
        vtab(range(0, 8), List.of(9));
        Settings.Data twelve = data("num-classes = 12");
        SplitList[] splits = DatasetLayouts.splits(twelve);
        assertThat(splits[0].numClasses()).isEqualTo(12);
        assertThat(splits[0].labels().describe()).endsWith("; the training split has no image of classes [8, 9, 10, 11]");
        assertThatThrownBy(() -> DatasetLayouts.splits(data("num-classes = 5"))).hasMessageContaining("line 6: label 5 is not a"
                + " class index 0..4 (data.num-classes = 5)");
    }

    @Test
    void emptySplitsAreErrorsNamingTheFile() throws IOException {
        vtab(range(0, 3), List.of());
        assertThatThrownBy(() -> DatasetLayouts.splits(data(""))).isInstanceOf(PeftException.class)
                .hasMessage(root.resolve("t/test.txt") + " lists no images: there is nothing to evaluate on"
                        + " (one '<image path> <label>' per line)");
        fgvc(Map.of(), Map.of(), Map.of("a.jpg", 1));
        assertThatThrownBy(() -> DatasetLayouts.splits(data("format = fgvc"))).isInstanceOf(PeftException.class)
                .hasMessageStartingWith(root.resolve("t/train.json") + " + " + root.resolve("t/val.json")
                        + " lists no images: there is nothing to train on");
        fgvc(Map.of("a.jpg", 1), Map.of(), Map.of());
        assertThatThrownBy(() -> DatasetLayouts.splits(data("format = fgvc"))).isInstanceOf(PeftException.class)
                .hasMessageStartingWith(root.resolve("t/test.json") + " lists no images: there is nothing to evaluate on");
    }

    private void fgvc(Map<String, Object> train, Map<String, Object> val, Map<String, Object> test) throws IOException {
        Path dir = Files.createDirectories(root.resolve("t"));
        Files.writeString(dir.resolve("train.json"), json(train));
        Files.writeString(dir.resolve("val.json"), json(val));
        Files.writeString(dir.resolve("test.json"), json(test));
    }

    private static String json(Map<String, Object> entries) {
        List<String> parts = new ArrayList<>();
        entries.forEach((k, v) -> parts.add("\"" + k + "\": " + v));
        return "{" + String.join(", ", parts) + "}";
    }

    @Test
    void fgvcIdsAreRemappedInSortedOrderAndUnknownTestIdsAreErrors() throws IOException {
        fgvc(Map.of("a.jpg", 12, "b.jpg", 3), Map.of("c.jpg", 7), Map.of("d.jpg", 7, "e.jpg", 12));
        SplitList[] splits = DatasetLayouts.splits(data("format = fgvc, image-dir = \"\""));
        assertThat(splits[0].numClasses()).isEqualTo(3);
        assertThat(splits[0].labels().asMap()).containsExactly(Map.entry("3", 0), Map.entry("7", 1), Map.entry("12", 2));
        assertThat(splits[1].samples()).extracting(Sample::label).containsExactlyInAnyOrder(1, 2);
        assertThat(splits[0].labels().describe()).startsWith("3 classes (class ids 3..12 of ").endsWith("remapped to 0..2 in sorted order)");

        fgvc(Map.of("a.jpg", 12, "b.jpg", 3), Map.of("c.jpg", 7), Map.of("d.jpg", 5));
        assertThatThrownBy(() -> DatasetLayouts.splits(data("format = fgvc"))).isInstanceOf(PeftException.class)
                .hasMessage(root.resolve("t/test.json") + " entry \"d.jpg\": label 5 is not a class the model can predict (its 3"
                        + " classes are the labels 3..12 of " + root.resolve("t/train.json") + " + " + root.resolve("t/val.json") + ")");
        assertThatThrownBy(() -> DatasetLayouts.splits(data("format = fgvc, num-classes = 4"))).isInstanceOf(PeftException.class)
                .hasMessageContaining("data.num-classes = 4 but ").hasMessageContaining("has 3 distinct class ids (3..12)");
        fgvc(Map.of("a.jpg", 1.5, "b.jpg", "\"x\""), Map.of(), Map.of("d.jpg", 1));
        assertThatThrownBy(() -> DatasetLayouts.splits(data("format = fgvc"))).isInstanceOf(PeftException.class)
                .hasMessageContaining("entry \"a.jpg\": expected an integer class id, got 1.5")
                .hasMessageContaining("entry \"b.jpg\": expected an integer class id, got \"x\"");
    }
}
