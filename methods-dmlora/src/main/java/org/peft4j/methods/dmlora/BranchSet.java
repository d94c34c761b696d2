package org.peft4j.methods.dmlora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.Initializer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The live branches of one factor of one adapter (its down matrices A_i, or its up matrices B_j), each a
 * parameter of the adapter block named {@code <prefix>_<k>} (no dot: DJL reads dotted array names as TorchScript
 * dict keys, and the fp16 cast would trip on them). Shrinking keeps, averages or drops them as a {@link
 * org.peft4j.api.BranchScheduler} decided; a dropped branch leaves the block and its tensor is freed. Numbers k are
 * never reused: an averaged branch gets a new one.
 */
final class BranchSet {

    /** Adds and removes the adapter block's parameters (protected in the block, hence passed in). */
    interface Host {
        Parameter add(String name, Shape shape, Initializer initializer);

        void remove(Parameter parameter);
    }

    private final String prefix;
    private final Shape shape;
    private final Host host;
    private List<Parameter> live = new ArrayList<>();
    private int nextNumber;

    /** Declares {@code count} branches, the first drawn from {@code first}, the others from {@code others}. */
    BranchSet(String prefix, Shape shape, int count, Initializer first, Initializer others, Host host) {
        this.prefix = prefix;
        this.shape = shape;
        this.host = host;
        for (int i = 0; i < count; i++) {
            live.add(host.add(prefix + "_" + nextNumber++, shape, i == 0 ? first : others));
        }
    }

    int size() {
        return live.size();
    }

    /** The live branch at position {@code i} (a route). */
    Parameter get(int i) {
        return live.get(i);
    }

    List<Parameter> live() {
        return List.copyOf(live);
    }

    /** The mean of the live branches' values (a branch itself when only one lives). */
    static NDArray mean(List<NDArray> values) {
        if (values.size() == 1) {
            return values.get(0);
        }
        return NDArrays.stack(new NDList(values)).mean(new int[] {0});
    }

    /**
     * Applies a shrink plan: each group of one keeps that branch; a larger group becomes a new branch holding
     * its members' average; every other branch is removed. With {@code resetSurvivors}, kept branches also
     * become new parameters (same name, same values), so an optimiser starts their moments afresh.
     */
    void shrink(List<int[]> groups, boolean resetSurvivors) {
        List<Parameter> next = new ArrayList<>(groups.size());
        Set<Parameter> unchanged = new HashSet<>();
        Set<Parameter> replaced = new HashSet<>();
        for (int[] group : groups) {
            if (group.length > 1) {
                NDArray average = average(group);
                next.add(host.add(prefix + "_" + nextNumber++, shape, (m, s, t) -> average));
            } else if (resetSurvivors) {
                Parameter survivor = live.get(group[0]);
                NDArray copy = survivor.getArray().duplicate().stopGradient();
                host.remove(survivor);
                replaced.add(survivor);
                next.add(host.add(survivor.getName(), shape, (m, s, t) -> copy));
            } else {
                unchanged.add(live.get(group[0]));
                next.add(live.get(group[0]));
            }
        }
        for (Parameter p : live) {
            if (!unchanged.contains(p) && !replaced.contains(p)) {
                host.remove(p);
            }
        }
        live = next;
    }

    /** The members' average as a new leaf tensor in the branches' manager. */
    private NDArray average(int[] group) {
        NDManager home = live.get(group[0]).getArray().getManager();
        try (NDManager scope = home.newSubManager()) {
            List<NDArray> members = new ArrayList<>();
            for (int i : group) {
                members.add(live.get(i).getArray());
            }
            scope.tempAttachAll(members.toArray(new NDArray[0]));
            NDArray average = mean(members).stopGradient();
            average.attach(home);
            return average;
        }
    }
}
