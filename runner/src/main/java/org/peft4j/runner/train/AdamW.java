package org.peft4j.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) with decoupled weight decay per parameter group and global-norm gradient
 * clipping, as PyTorch's {@code torch.optim.AdamW}. DJL's built-in optimisers take one global decay and clip
 * element-wise, hence our own. Parameters with at most one dimension, biases, position embeddings and the cls
 * token take no decay (timm's rule).
 */
public final class AdamW {

    private final List<Slot> slots = new ArrayList<>();
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final double maxGradNorm;
    private int steps;

    private record Slot(String name, Parameter parameter, NDArray mean, NDArray variance, boolean decay) {}

    public AdamW(Map<String, Parameter> parameters, double weightDecay, double beta1, double beta2, double eps, double maxGradNorm) {
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.maxGradNorm = maxGradNorm;
        parameters.forEach((name, p) -> {
            NDArray w = p.getArray();
            NDManager home = w.getManager();
            NDArray m = home.zeros(w.getShape(), w.getDataType(), w.getDevice());
            NDArray v = home.zeros(w.getShape(), w.getDataType(), w.getDevice());
            slots.add(new Slot(name, p, m, v, decays(name, w)));
        });
    }

    /** timm's no-decay rule: 1-D tensors (norms, scales, biases, lambdas), biases, position embeddings. */
    static boolean decays(String name, NDArray w) {
        return w.getShape().dimension() > 1 && !name.endsWith(".bias") && !name.equals("pos_embed") && !name.equals("cls_token")
                && !name.endsWith("relative_position_bias_table");
    }

    /** Optimiser state arrays, to borrow into the step scope with the parameters. */
    public List<NDArray> state() {
        List<NDArray> state = new ArrayList<>();
        slots.forEach(s -> {
            state.add(s.mean);
            state.add(s.variance);
        });
        return state;
    }

    public int size() {
        return slots.size();
    }

    /** Names of the parameters that take weight decay. */
    public List<String> decayed() {
        return slots.stream().filter(Slot::decay).map(Slot::name).toList();
    }

    /**
     * One update at learning rate {@code lr}, then clears the gradients. Must run outside gradient recording,
     * with parameters and {@link #state()} borrowed into the caller's step scope (temporaries die with it).
     *
     * @return the global gradient norm before clipping
     */
    public double step(double lr) {
        steps++;
        List<NDArray> grads = new ArrayList<>(slots.size());
        double sumSquares = 0;
        for (Slot s : slots) {
            NDArray g = s.parameter.getArray().getGradient();
            grads.add(g);
            sumSquares += g.square().sum().getFloat();
        }
        double norm = Math.sqrt(sumSquares);
        double clip = maxGradNorm > 0 && norm > maxGradNorm ? maxGradNorm / (norm + 1e-6) : 1.0;
        double correction1 = 1 - Math.pow(beta1, steps);
        double correction2 = 1 - Math.pow(beta2, steps);
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            NDArray w = s.parameter.getArray();
            NDArray g = clip == 1.0 ? grads.get(i) : grads.get(i).mul(clip);
            s.mean.muli(beta1).addi(g.mul(1 - beta1));
            s.variance.muli(beta2).addi(g.square().mul(1 - beta2));
            if (s.decay && weightDecay > 0) {
                w.muli(1 - lr * weightDecay);
            }
            NDArray denominator = s.variance.div(correction2).sqrt().add(eps);
            w.subi(s.mean.div(denominator).mul(lr / correction1));
            JniUtils.zeroGrad((PtNDArray) w);
        }
        return norm;
    }
}
