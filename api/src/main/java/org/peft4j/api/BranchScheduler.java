package org.peft4j.api;

import java.util.List;
import java.util.Random;

/**
 * How many branches of a multi-branch adapter live at each epoch, how they shrink, and which branch each step
 * routes through (DMLoRA's mixture dropout). One scheduler drives one factor (e.g. the down or the up branches)
 * of every site alike; the method owns the branches and applies what the scheduler decides.
 *
 * <p>Order within a run: at the start of each epoch the method compares {@link #liveBranches} with the branches
 * a site still has and, if fewer should live, asks {@link #shrink} which survive or merge (a branch that leaves
 * is removed from the model for good, so the optimiser releases its state); before each training forward pass
 * it asks {@link #route} once per site, or once per step when all sites share a draw.
 */
public interface BranchScheduler {

    /**
     * Number of branches alive during {@code epoch} (0-based, within the stage that trains the branches), e.g. n
     * halved every k epochs down to a floor. Never increases with the epoch.
     */
    int liveBranches(int epoch);

    /**
     * How {@code from} live branches become {@code to < from}: {@code to} groups of distinct indices in [0,
     * from). A group of one keeps that branch as it is (random drop); a larger group becomes one new branch,
     * the average of its members (averaging pairs). Branches in no group are dropped.
     */
    List<int[]> shrink(int from, int to, Random random);

    /**
     * The branch (index into the {@code live} branches, in [0, live)) a site routes through this step.
     *
     * @param depth the site's block index, or -1 for a draw shared by every site of the step
     */
    int route(int depth, int live, Random random);
}
