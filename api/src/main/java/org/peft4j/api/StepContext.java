package org.peft4j.api;

import ai.djl.ndarray.NDManager;
import java.util.Random;

/**
 * One training step as hooks see it.
 *
 * @param stage the stage name
 * @param epoch epoch index within the stage (0-based)
 * @param step global step index within the stage (0-based)
 * @param random a stream seeded from (run seed, stage, step): same seed, same masks and routes, whatever
 *     else consumed randomness
 * @param manager the step's scope; arrays created here are closed when the step ends
 */
public record StepContext(String stage, int epoch, long step, Random random, NDManager manager) {}
