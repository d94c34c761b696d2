package org.peft4j.methods.mosa;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * One side of a mixture adapter whose tensors are chosen together: a projection's weight and bias (MoSA's down or
 * up; MoSL's A or B). A mixed side has N experts and one is selected for each training forward pass; the side
 * remembers which experts any pass of the current step used, so that only those train (gradients masked to their
 * entries) and the others stay exactly as they are.
 */
final class ExpertSide {

    private final String owner;
    private final String name;
    private final List<ExpertTensor> tensors;
    private final int experts;
    private final boolean[] used;
    private int current = -1;

    /**
     * @param owner the adapter, for error messages
     * @param tensors the side's tensors; all have the same number of experts (1 = shared)
     */
    ExpertSide(String owner, String name, List<ExpertTensor> tensors) {
        this.owner = owner;
        this.name = name;
        this.tensors = List.copyOf(tensors);
        this.experts = tensors.get(0).experts();
        for (ExpertTensor t : tensors) {
            if (t.experts() != experts) {
                throw new IllegalArgumentException("tensors of side " + name + " have different expert counts");
            }
        }
        this.used = new boolean[experts];
    }

    String name() {
        return name;
    }

    List<ExpertTensor> tensors() {
        return tensors;
    }

    int experts() {
        return experts;
    }

    /** Whether this side has experts to choose from. */
    boolean mixed() {
        return experts > 1;
    }

    /** Forgets the previous step's choices. */
    void startStep() {
        Arrays.fill(used, false);
        current = -1;
    }

    /** Records that a pass of this step uses {@code expert}. */
    void use(int expert) {
        used[expert] = true;
    }

    /** Selects the expert of the next forward pass (one of those {@link #use}d). */
    void select(int expert) {
        if (!used[expert]) {
            throw new IllegalStateException(owner + "." + name + ": expert " + expert + " was not drawn this step");
        }
        current = expert;
    }

    /** Ends the passes of a step: a training forward pass needs a new selection. */
    void deselect() {
        current = -1;
    }

    /** The selected expert (0 for a shared side); a mixed side with none selected is a contract violation. */
    int current() {
        if (!mixed()) {
            return 0;
        }
        if (current < 0) {
            throw new IllegalStateException(owner + "." + name + ": no expert selected for this training pass; the "
                    + "method's TrainingHooks (beforeForward, then loss) choose one per pass");
        }
        return current;
    }

    /** Tensor {@code index} as the selected expert trains with it. */
    NDArray training(int index, Function<Parameter, NDArray> value) {
        return tensors.get(index).expert(value, current());
    }

    /** Masks the gradients of every expert a pass of this step used to that expert's own entries. */
    void maskGradients() {
        for (int e = 0; e < experts; e++) {
            if (used[e]) {
                for (ExpertTensor t : tensors) {
                    t.maskGradient(e);
                }
            }
        }
    }

    /** Adds the parameters of every expert no pass of this step used. */
    void addIdle(Set<Parameter> idle) {
        if (!mixed()) {
            return;
        }
        for (int e = 0; e < experts; e++) {
            if (!used[e]) {
                for (ExpertTensor t : tensors) {
                    idle.add(t.parameter(e));
                }
            }
        }
    }
}
