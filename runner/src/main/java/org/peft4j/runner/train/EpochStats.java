package org.peft4j.runner.train;

/** What one training epoch did. */
public record EpochStats(String stage, int epoch, double loss, double accuracy, double lr, double seconds,
        double imagesPerSecond, Evaluator.Result eval) {}
