package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.peft4j.api.nn.ParameterTypes;

/**
 * AdamW (Loshchilov and Hutter) with decoupled weight decay per parameter group and global-norm gradient
 * clipping, as PyTorch's {@code torch.optim.AdamW}. DJL's built-in optimisers take one global decay and clip
 * element-wise, hence our own. Parameters with at most one dimension, biases, position embeddings and the cls
 * token take no decay (timm's rule).
 *
 * <p>Trainable parameters are the fp32 master copies: one stored in another type (a frozen fp16 weight that a later
 * stage trains) is converted to fp32 when it joins. With a {@link LossScaler}, gradients are unscaled here, and a
 * step whose gradients are not finite is skipped whole (no moments, no decay, no count) and lowers the scale.
 *
 * <p>As in PyTorch, each parameter keeps its own step count, and a parameter that took no part in a step (an
 * unchosen expert or branch: PyTorch's {@code grad is None}) is skipped entirely: no moments, no decay, no count.
 */
public final class AdamW {

    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final double maxGradNorm;

    /**
     * The optimiser's state by parameter name, to checkpoint and restore a run.
     *
     * @param mean first moments
     * @param variance second moments
     * @param steps each parameter's own step count
     */
    public record State(Map<String, NDArray> mean, Map<String, NDArray> variance, Map<String, Long> steps) {}

    /** One parameter's state. */
    private static final class Slot {
        final Parameter parameter;
        final NDArray mean;
        final NDArray variance;
        final boolean decay;
        long steps;

        Slot(String name, Parameter parameter) {
            this.parameter = parameter;
            ParameterTypes.convert(parameter, DataType.FLOAT32);
            NDArray w = parameter.getArray();
            NDManager home = w.getManager();
            this.mean = home.zeros(w.getShape(), w.getDataType(), w.getDevice());
            this.variance = home.zeros(w.getShape(), w.getDataType(), w.getDevice());
            this.decay = decays(name, w);
        }

        void close() {
            mean.close();
            variance.close();
        }
    }

    public AdamW(Map<String, Parameter> parameters, double weightDecay, double beta1, double beta2, double eps, double maxGradNorm) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.maxGradNorm = maxGradNorm;
        parameters.forEach((name, p) -> slots.put(name, new Slot(name, p)));
    }

    /** timm's no-decay rule: 1-D tensors (norms, scales, biases, lambdas), biases, position embeddings. */
    static boolean decays(String name, NDArray w) {
        return w.getShape().dimension() > 1 && !name.endsWith(".bias") && !name.equals("pos_embed") && !name.equals("cls_token")
                && !name.endsWith("relative_position_bias_table");
    }

    /**
     * Follows a changed set of trainable parameters: the state of parameters no longer listed is released for
     * good (DMLoRA's dropped branches), new ones start with zero moments, the others keep theirs.
     */
    public void sync(Map<String, Parameter> parameters) {
        slots.entrySet().removeIf(e -> {
            boolean gone = parameters.get(e.getKey()) != e.getValue().parameter;
            if (gone) {
                e.getValue().close();
            }
            return gone;
        });
        parameters.forEach((name, p) -> slots.computeIfAbsent(name, n -> new Slot(n, p)));
    }

    /** Optimiser state arrays, to borrow into the step scope with the parameters. */
    public List<NDArray> state() {
        List<NDArray> state = new ArrayList<>();
        slots.values().forEach(s -> {
            state.add(s.mean);
            state.add(s.variance);
        });
        return state;
    }

    /** The current state (views of the live arrays: save them before the next step). */
    public State exportState() {
        Map<String, NDArray> mean = new LinkedHashMap<>();
        Map<String, NDArray> variance = new LinkedHashMap<>();
        Map<String, Long> steps = new LinkedHashMap<>();
        slots.forEach((name, s) -> {
            mean.put(name, s.mean);
            variance.put(name, s.variance);
            steps.put(name, s.steps);
        });
        return new State(mean, variance, steps);
    }

    /** Restores a saved state; every parameter this optimiser updates must be in it. */
    public void importState(State state) {
        slots.forEach((name, s) -> {
            NDArray mean = state.mean().get(name);
            NDArray variance = state.variance().get(name);
            Long steps = state.steps().get(name);
            if (mean == null || variance == null || steps == null) {
                throw new IllegalStateException("the saved optimiser state has no entry for " + name
                        + " (saved: " + state.steps().keySet() + ")");
            }
            replace(s.mean, mean);
            replace(s.variance, variance);
            s.steps = steps;
        });
    }

    private static void replace(NDArray target, NDArray value) {
        target.intern(value.toType(target.getDataType(), false).toDevice(target.getDevice(), false).duplicate());
    }

    /** Names of the parameters this optimiser updates, in order. */
    public Set<String> names() {
        return Collections.unmodifiableSet(slots.keySet());
    }

    public int size() {
        return slots.size();
    }

    /** Steps taken by one parameter (skipped steps do not count). */
    public long steps(String name) {
        Slot slot = slots.get(name);
        if (slot == null) {
            throw new IllegalArgumentException("no optimiser state for " + name);
        }
        return slot.steps;
    }

    /** Names of the parameters that take weight decay. */
    public List<String> decayed() {
        return slots.entrySet().stream().filter(e -> e.getValue().decay).map(Map.Entry::getKey).toList();
    }

    /** One update of every parameter. */
    public double step(double lr) {
        return step(lr, Set.of(), LossScaler.none());
    }

    /** One update at {@code lr} leaving {@code idle} parameters alone, without loss scaling. */
    public double step(double lr, Set<Parameter> idle) {
        return step(lr, idle, LossScaler.none());
    }

    /**
     * The gradients of one update, gathered after backward and the gradient hooks: the idle parameters' gradients
     * are already zeroed, and where clipping or loss scaling needs the global norm its computation is queued on the
     * device but not read. A caller that reads something else first (the loss) so waits once for both.
     */
    public static final class Gradients {
        private final List<Slot> active;
        private final List<NDArray> grads;
        private final NDArray squaredNorm;

        private Gradients(List<Slot> active, List<NDArray> grads, NDArray squaredNorm) {
            this.active = active;
            this.grads = grads;
            this.squaredNorm = squaredNorm;
        }
    }

    /**
     * Gathers the gradients for {@link #step(double, Gradients, LossScaler)}. {@code idle} parameters took no part
     * in the step: their gradients are zeroed and they will be left exactly as they are.
     */
    public Gradients gradients(Set<Parameter> idle, LossScaler scaler) {
        List<Slot> active = new ArrayList<>(slots.size());
        List<NDArray> grads = new ArrayList<>(slots.size());
        List<NDArray> idleArrays = new ArrayList<>();
        for (Slot s : slots.values()) {
            if (idle.contains(s.parameter)) {
                idleArrays.add(s.parameter.getArray());
                continue;
            }
            active.add(s);
            grads.add(s.parameter.getArray().getGradient());
        }
        AdamWKernel.zeroGrads(idleArrays);
        // the norm decides clipping and whether a loss-scaled step is taken; nothing else needs it
        boolean needsNorm = !active.isEmpty() && (maxGradNorm > 0 || scaler.enabled());
        NDArray squaredNorm = needsNorm ? AdamWKernel.squaredNorm(grads, grads.get(0).getManager()) : null;
        return new Gradients(active, grads, squaredNorm);
    }

    /**
     * One update at learning rate {@code lr}, then clears the gradients. {@code idle} parameters took no part in
     * the step and are left exactly as they are. Gradients are divided by the scaler's scale; if the scaler is on
     * and any gradient is inf or NaN, no parameter changes and the scaler lowers its scale. Must run outside gradient
     * recording, with parameters and {@link #state()} borrowed into the caller's step scope (temporaries die with it).
     *
     * @return the global gradient norm (over the non-idle parameters, unscaled) before clipping; NaN or inf for a
     *     skipped step; NaN, not computed, where neither clipping nor loss scaling needs it (reading it waits for the
     *     device)
     */
    public double step(double lr, Set<Parameter> idle, LossScaler scaler) {
        return step(lr, gradients(idle, scaler), scaler);
    }

    /** As {@link #step(double, Set, LossScaler)}, with the gradients gathered before by {@link #gradients}. */
    public double step(double lr, Gradients gradients, LossScaler scaler) {
        List<Slot> active = gradients.active;
        List<NDArray> grads = gradients.grads;
        if (active.isEmpty()) {
            scaler.update(true);
            return 0;
        }
        // the step's only read of the device, and none when nothing depends on the norm
        boolean needsNorm = gradients.squaredNorm != null;
        double norm = needsNorm ? Math.sqrt(gradients.squaredNorm.getDouble()) / scaler.scale() : Double.NaN;
        if (needsNorm && !scaler.update(Double.isFinite(norm))) {
            AdamWKernel.zero(grads);
            return norm;
        }
        double clip = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1.0;
        int n = active.size();
        List<NDArray> params = new ArrayList<>(n);
        List<NDArray> means = new ArrayList<>(n);
        List<NDArray> variances = new ArrayList<>(n);
        double[] decays = new double[n];
        double[] corrections2 = new double[n];
        double[] stepSizes = new double[n];
        for (int i = 0; i < n; i++) {
            Slot s = active.get(i);
            s.steps++;
            params.add(s.parameter.getArray());
            means.add(s.mean);
            variances.add(s.variance);
            decays[i] = s.decay && weightDecay > 0 ? 1 - lr * weightDecay : 1.0;
            corrections2[i] = 1 - Math.pow(beta2, s.steps);
            stepSizes[i] = lr / (1 - Math.pow(beta1, s.steps));
        }
        AdamWKernel.update(params, grads, means, variances, clip / scaler.scale(), beta1, beta2, eps, decays,
                corrections2, stepSizes);
        return norm;
    }
}
