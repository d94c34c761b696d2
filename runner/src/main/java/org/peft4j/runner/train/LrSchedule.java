package org.peft4j.runner.train;

/** Linear warmup from 0 to the peak, then cosine decay to the minimum, evaluated per step (timm's per-step cosine). */
public record LrSchedule(double peak, double min, long warmupSteps, long totalSteps) {

    public double at(long step) {
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        long decaySteps = Math.max(1, totalSteps - warmupSteps);
        double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
        return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
    }
}
