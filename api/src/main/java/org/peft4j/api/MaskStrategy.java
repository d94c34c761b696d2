package org.peft4j.api;

/**
 * Which experts are on, per layer, at each training step and at inference (MLAE's fixed, stochastic and
 * mixed masks; MoSA's one expert per block). Layers are site depths.
 *
 * <p>Contract: {@link #draw} is called once per training forward pass (from {@link
 * TrainingHooks#beforeForward}); between draws {@link #trainingMask} returns the same arrays. An expert
 * whose multiplier is 0 is off this step and must get no gradient. Multipliers of kept experts carry any
 * rescaling (inverted dropout: 1/(1-p)), so that the expected training output equals the inference output.
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
