package org.peft4j.runner.experiment;

import com.google.inject.Singleton;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.peft4j.api.DataConfig;
import org.peft4j.runner.config.Settings;
import org.peft4j.runner.data.CacheBudget;
import org.peft4j.runner.data.DatasetLayouts;
import org.peft4j.runner.data.ImageSet;
import org.peft4j.runner.data.SplitList;
import org.peft4j.runner.data.Transform;

/**
 * The training and evaluation images of an experiment's task, shared by the cells that use the same splits and
 * transform (the methods and seeds of a comparison). Keeps the most recent few tasks only; all of them cache decoded
 * images within one budget ({@code data.cache-mb}), and a task that is dropped gives its share back.
 */
@Singleton
public final class TaskData {

    /** The two splits of a protocol, ready for training. */
    public record Splits(SplitList trainList, SplitList evalList, ImageSet train, ImageSet eval) {
        public int numClasses() {
            return trainList.numClasses();
        }
    }

    private static final int KEEP = 2;

    private final Map<String, Splits> cache = new LinkedHashMap<>(4, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Splits> eldest) {
            if (size() <= KEEP) {
                return false;
            }
            eldest.getValue().train().dropCache();
            eldest.getValue().eval().dropCache();
            return true;
        }
    };
    private CacheBudget budget;
    private long budgetSetting;

    /** The split lists of the experiment's protocol (read and checked, no image decoded). */
    public static SplitList[] lists(Settings.Data data) {
        return DatasetLayouts.splits(data);
    }

    /** The images of the splits, preprocessed for the backbone's data config (shared, decoded on first use). */
    public synchronized Splits load(Settings.Data data, SplitList[] lists, DataConfig config) {
        if (budget == null || budgetSetting != data.cacheMb()) { // another cache size: start over with it
            cache.values().forEach(s -> {
                s.train().dropCache();
                s.eval().dropCache();
            });
            cache.clear();
            budget = CacheBudget.megabytes(data.cacheMb());
            budgetSetting = data.cacheMb();
        }
        Transform transform = transform(data, config);
        String key = data.format() + "|" + data.root().toAbsolutePath().normalize() + "|" + data.name() + "|"
                + data.protocol() + "|" + data.imageDir() + "|" + transform.mode() + "|" + transform.imageSize() + "|"
                + Arrays.toString(transform.mean()) + Arrays.toString(transform.std());
        return cache.computeIfAbsent(key, k -> {
            ImageSet[] sets = images(lists, transform, budget);
            return new Splits(lists[0], lists[1], sets[0], sets[1]);
        });
    }

    /** The images of the splits for the backbone's data config, with a cache budget of their own (one-off use). */
    public static ImageSet[] images(SplitList[] splits, Settings.Data data, DataConfig config) {
        return images(splits, transform(data, config), CacheBudget.megabytes(data.cacheMb()));
    }

    /** One budget for both splits: the training split, read first and every epoch, claims it first. */
    private static ImageSet[] images(SplitList[] splits, Transform transform, CacheBudget budget) {
        return new ImageSet[] {ImageSet.load(splits[0], transform, budget), ImageSet.load(splits[1], transform, budget)};
    }

    static Transform transform(Settings.Data data, DataConfig config) {
        float[] mean = switch (data.normalize()) {
            case "imagenet" -> DataConfig.IMAGENET_MEAN;
            case "inception" -> DataConfig.INCEPTION_MEAN;
            default -> config.mean();
        };
        float[] std = switch (data.normalize()) {
            case "imagenet" -> DataConfig.IMAGENET_STD;
            case "inception" -> DataConfig.INCEPTION_STD;
            default -> config.std();
        };
        return new Transform(data.resize(), config.imageSize(), mean, std);
    }
}
