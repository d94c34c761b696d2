package org.peft4j.runner.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.TrainingPlan;
import org.peft4j.api.TrainingStage;
import org.peft4j.runner.config.Settings;
import org.peft4j.runner.data.BatchStream;
import org.peft4j.runner.data.HostBatch;
import org.peft4j.runner.data.ImageSet;

/**
 * The training loop (shaped like DJL's EasyTrain, but with the hooks methods need before the forward pass).
 * Each step runs in its own child NDManager that borrows the parameters and optimiser state, so everything a
 * step creates (activations, gradients' wrappers, temporaries) is closed when it ends and native memory stays
 * flat over epochs.
 */
public final class Trainer {

    /** Called after each epoch with the epoch's stats; writes the checkpoint (the last good one survives a NaN). */
    @FunctionalInterface
    public interface EpochSink {
        void epochDone(EpochStats stats);
    }

    private final PeftModel model;
    private final Settings.Train settings;
    private final int batchSize;
    private final int evalBatchSize;
    private final long seed;
    private final StepObserver observer;
    private final EpochSink sink;
    private TrainingCheckpoints checkpoints = TrainingCheckpoints.NONE;
    private AdamW optimizer;

    /** Salt of the engine's per-epoch seed, so it never equals the data-order seed of the same epoch. */
    private static final long ENGINE_STREAM = 0x5EED_E5617L;

    public Trainer(PeftModel model, Settings.Train settings, int batchSize, int evalBatchSize, long seed,
            StepObserver observer, EpochSink sink) {
        this.model = model;
        this.settings = settings;
        this.batchSize = batchSize;
        this.evalBatchSize = evalBatchSize;
        this.seed = seed;
        this.observer = observer;
        this.sink = sink;
    }

    /** The runner's one-stage plan from config. */
    public static TrainingPlan basePlan(Settings.Train t) {
        return TrainingPlan.of(new TrainingStage("main", t.epochs(), t.lr(), t.weightDecay(), t.warmupEpochs()));
    }

    /** Saves a checkpoint after every epoch and resumes from the newest one found (default: none). */
    public Trainer withCheckpoints(TrainingCheckpoints checkpoints) {
        this.checkpoints = checkpoints;
        return this;
    }

    /**
     * Trains every stage of the plan; evaluates on {@code eval} every {@code eval-every} epochs (if set). If the
     * checkpoints hold a saved state, the finished epochs are not trained again: their hooks are replayed (so a
     * method rebuilds what it changed at stage and epoch starts, e.g. dropped branches), then parameters and
     * optimiser state are restored, and training continues exactly as an uninterrupted run would.
     */
    public List<EpochStats> fit(ImageSet train, ImageSet eval, TrainingPlan plan) {
        TrainingHooks hooks = model.hooks();
        Optional<TrainingState> resume = checkpoints.latest(model.backbone().manager());
        List<EpochStats> history = new ArrayList<>(resume.map(TrainingState::history).orElse(List.of()));
        int stepsPerEpoch = (train.size() + batchSize - 1) / batchSize;
        for (int stageIndex = 0; stageIndex < plan.stages().size(); stageIndex++) {
            TrainingStage stage = plan.stages().get(stageIndex);
            hooks.onStageStart(stage, model.backbone());
            int firstEpoch = 0;
            if (resume.isPresent() && stageIndex < resume.get().stage()) {
                replayEpochs(hooks, stage, stage.epochs(), null);
                continue;
            }
            optimizer = new AdamW(model.trainable(), stage.weightDecay(), settings.beta1(), settings.beta2(),
                    settings.eps(), settings.gradClip());
            model.noteTrained();
            TrainingStep trainingStep = new TrainingStep(model, optimizer, settings.labelSmoothing());
            if (resume.isPresent() && stageIndex == resume.get().stage()) {
                TrainingState state = resume.get();
                firstEpoch = state.epochsDone();
                replayEpochs(hooks, stage, firstEpoch, optimizer);
                model.restore(state.parameters());
                optimizer.importState(state.optimizer());
                trainingStep.scaler().restore(state.lossScale(), state.lossScaleGoodSteps());
                state.parameters().values().forEach(NDArray::close);
                closeAll(state.optimizer());
            }
            LrSchedule schedule = new LrSchedule(stage.lr(), Math.min(settings.minLr(), stage.lr()),
                    Math.round(stage.warmupEpochs() * stepsPerEpoch), (long) stage.epochs() * stepsPerEpoch);
            for (int epoch = firstEpoch; epoch < stage.epochs(); epoch++) {
                hooks.onEpochStart(stage.name(), epoch);
                optimizer.sync(model.trainable()); // a method may have frozen or removed parameters for good
                model.noteTrained();
                // dropout and drop path draw from the engine's stream: reseeding it per epoch makes a resumed run
                // draw what the uninterrupted run drew
                Engine.getInstance().setRandomSeed((int) mix(seed, stageIndex, epoch, ENGINE_STREAM));
                observer.epochStarted(stage.name(), epoch, stage.epochs(), stepsPerEpoch);
                int[] order = shuffledGroups(train.size(), train.groupSize(), new Random(mix(seed, stageIndex, epoch)));
                double lossSum = 0;
                long correct = 0;
                long seen = 0;
                long started = System.nanoTime();
                double lr = 0;
                long step = (long) epoch * stepsPerEpoch;
                List<int[]> batches = new ArrayList<>();
                for (int start = 0; start < order.length; start += batchSize) {
                    batches.add(Arrays.copyOfRange(order, start, Math.min(order.length, start + batchSize)));
                }
                long firstStep = step;
                int stageAt = stageIndex;
                int epochAt = epoch;
                try (BatchStream stream = train.stream(batches, true,
                        b -> new Random(mix(seed, stageAt, firstStep + b + 1_000_003L * (epochAt + 1))))) {
                    while (stream.hasNext()) {
                        HostBatch batch = stream.next();
                        lr = schedule.at(step);
                        double[] result = step(trainingStep, batch, stage, epoch, step, stageIndex, lr);
                        lossSum += result[0] * batch.count();
                        correct += (long) result[1];
                        seen += batch.count();
                        step++;
                        double seconds = (System.nanoTime() - started) / 1e9;
                        observer.stepDone(lossSum / seen, (double) correct / seen, seen / Math.max(seconds, 1e-9));
                    }
                }
                hooks.onEpochEnd(stage.name(), epoch);
                double seconds = (System.nanoTime() - started) / 1e9;
                boolean last = stageIndex == plan.stages().size() - 1 && epoch == stage.epochs() - 1;
                Evaluator.Result evaluation = eval != null && settings.evalEvery() > 0 && !last
                        && (epoch + 1) % settings.evalEvery() == 0 ? Evaluator.evaluate(model, eval, evalBatchSize, null, observer) : null;
                EpochStats stats = new EpochStats(stage.name(), epoch, lossSum / seen, (double) correct / seen, lr, seconds,
                        seen / Math.max(seconds, 1e-9), evaluation);
                history.add(stats);
                checkpoints.save(new TrainingState(stageIndex, epoch + 1, List.copyOf(history), model.savedArrays(),
                        optimizer.exportState(), trainingStep.scaler().scale(), trainingStep.scaler().goodSteps()));
                observer.epochDone(stats);
                sink.epochDone(stats);
            }
        }
        return history;
    }

    /** The optimiser of the stage being trained (null before {@link #fit}); tests follow its state through it. */
    AdamW optimizer() {
        return optimizer;
    }

    private static void closeAll(AdamW.State state) {
        state.mean().values().forEach(NDArray::close);
        state.variance().values().forEach(NDArray::close);
    }

    /** Runs the epoch hooks of {@code epochs} finished epochs without training (resume). */
    private void replayEpochs(TrainingHooks hooks, TrainingStage stage, int epochs, AdamW optimizer) {
        replayEpochs(hooks, stage, epochs);
        if (optimizer != null) {
            optimizer.sync(model.trainable());
        }
    }

    private static void replayEpochs(TrainingHooks hooks, TrainingStage stage, int epochs) {
        for (int epoch = 0; epoch < epochs; epoch++) {
            hooks.onEpochStart(stage.name(), epoch);
            hooks.onEpochEnd(stage.name(), epoch);
        }
    }

    /**
     * Brings a freshly assembled model to the structure it had when {@code plan} finished, without training: the
     * stage and epoch hooks run in order, so a method that changes the model as it trains (DMLoRA drops branches,
     * adds learnable scales) rebuilds the same tensors. Reloading a trained adapter file needs it.
     */
    public static void replayPlan(PeftModel model, TrainingPlan plan) {
        TrainingHooks hooks = model.hooks();
        for (TrainingStage stage : plan.stages()) {
            hooks.onStageStart(stage, model.backbone());
            replayEpochs(hooks, stage, stage.epochs());
        }
    }

    /** One optimisation step; returns {loss, correct}. */
    private double[] step(TrainingStep trainingStep, HostBatch host, TrainingStage stage, int epoch, long step, int stageIndex,
            double lr) {
        try (NDManager scope = trainingStep.openScope()) {
            NDList batch = host.toNDList(scope);
            StepContext context = new StepContext(stage.name(), epoch, step, new Random(mix(seed, stageIndex, step)), scope);
            TrainingStep.Outcome outcome = trainingStep.run(context, batch.get(0), batch.get(1), lr,
                    loss -> "loss became " + loss + " at step " + step + " (stage " + stage.name() + ", epoch " + (epoch + 1)
                            + "); training stopped");
            return new double[] {outcome.loss(), outcome.correct()};
        }
    }

    /** A random order of whole groups of {@code group} consecutive items (group 1: a plain shuffle). */
    static int[] shuffledGroups(int n, int group, Random random) {
        int[] groups = shuffled(n / group, random);
        if (group == 1) {
            return groups;
        }
        int[] order = new int[n];
        for (int g = 0; g < groups.length; g++) {
            for (int k = 0; k < group; k++) {
                order[g * group + k] = groups[g] * group + k;
            }
        }
        return order;
    }

    static int[] shuffled(int n, Random random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** A well-mixed seed from parts (SplitMix64 finaliser). */
    static long mix(long... parts) {
        long h = 0x9E3779B97F4A7C15L;
        for (long p : parts) {
            h ^= p + 0x9E3779B97F4A7C15L + (h << 6) + (h >>> 2);
            h = (h ^ (h >>> 30)) * 0xBF58476D1CE4E5B9L;
            h = (h ^ (h >>> 27)) * 0x94D049BB133111EBL;
            h ^= h >>> 31;
        }
        return h;
    }
}
