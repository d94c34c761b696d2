package org.peft4j.api;

import java.util.List;
import java.util.Random;

/**
 * How many LoRA branches live at each epoch, how they shrink, and which branch each step routes through
 * (DMLoRA). Layers are site depths.
 */
public interface BranchScheduler {

    /** Number of branches alive during {@code epoch} (e.g. n halved every k epochs, at least 1). */
    int liveBranches(int epoch);

    /**
     * How {@code from} branches become {@code to}: element i lists the old branches whose (averaged)
     * weights form new branch i. Random drop gives singletons; averaging gives pairs.
     */
    List<int[]> shrink(int from, int to, Random random);

    /** The branch index for layer {@code depth} this step, in [0, live). */
    int route(int depth, int live, Random random);
}
