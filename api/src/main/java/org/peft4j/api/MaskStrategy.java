package org.peft4j.api;

/**
 * Which experts are on, per layer, at each training step and at inference (MLAE's fixed, stochastic and
 * mixed masks; MoSA's one expert per block). A layer index names a mask group: a block (site depths {@code 0 ..
 * depth-1}) or, for a method that masks every adapted site on its own (MLAE's default), a site; every layer has
 * {@link #experts()} experts, and a mask is one multiplier per expert.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>{@link #draw} is called once per training step, before its forward passes (from {@link
 *       TrainingHooks#beforeForward}), and takes all its randomness from {@link StepContext#random()}: the
 *       same run seed gives the same masks. Between draws {@link #trainingMask} returns the same values, so
 *       every forward pass of a step and every sample and token of its batch share one mask per layer.
 *       Asking for a training mask before the first draw is a contract violation (implementations throw).
 *   <li>An expert whose training multiplier is 0 is off this step: it contributes nothing and gets no
 *       gradient. Multipliers of kept experts carry any rescaling (inverted dropout: {@code 1/(1-p)}), so
 *       that the expected training output equals the inference output.
 *   <li>{@link #inferenceMask} is what evaluation and merging use; it does not change between draws. A 0 there
 *       means the expert is never used (fixed masks); such an expert should also be off in every training
 *       mask, so it never trains.
 * </ul>
 *
 * Callers must not modify the returned arrays.
 */
public interface MaskStrategy {

    /** Number of experts per layer this strategy was built for. */
    int experts();

    /** Draws this step's masks from the step's random stream. */
    void draw(StepContext step);

    /** Per-expert multipliers for layer {@code depth} this step. */
    float[] trainingMask(int depth);

    /** Per-expert multipliers at inference (0 = the expert is never used). */
    float[] inferenceMask(int depth);

    /** Experts of layer {@code depth} that can ever train (fixed masks exclude some for good). */
    default int trainableExperts(int depth) {
        int count = 0;
        for (float m : inferenceMask(depth)) {
            if (m != 0f) {
                count++;
            }
        }
        return count;
    }
}
