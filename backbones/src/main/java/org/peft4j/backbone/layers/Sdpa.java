package org.peft4j.backbone.layers;

import ai.djl.ndarray.NDArray;
import org.peft4j.api.nn.TorchScriptOp;

/**
 * PyTorch's fused {@code scaled_dot_product_attention} with its default scale {@code 1/sqrt(d)} (ViT's and Swin's),
 * run as a TorchScript module because DJL has no such op. PyTorch picks the kernel: flash or memory-efficient on
 * CUDA, the CPU flash kernel on CPU; all keep gradients. q, k and v go in token-major, {@code [B, N, heads, d]}
 * (views of the qkv site's slices), and the result comes out as {@code [B, N, heads * d]}, ready for the output
 * projection: the module moves them to head-major and back, which as DJL ops were five calls per block.
 */
public final class Sdpa {

    private Sdpa() {}

    /** {@code softmax(q k^T / sqrt(d)) v} per head. */
    public static NDArray attend(NDArray q, NDArray k, NDArray v) {
        return Ops.PLAIN.call(q, k, v);
    }

    /**
     * {@code softmax(q k^T / sqrt(d) + mask) v} per head; {@code mask} is additive and broadcastable to
     * {@code [B, heads, N, N]}.
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask) {
        return Ops.MASKED.call(q, k, v, mask);
    }

    /** Loaded on first use. */
    private static final class Ops {
        static final TorchScriptOp PLAIN = TorchScriptOp.of(Sdpa.class, "sdpa.pt");
        static final TorchScriptOp MASKED = TorchScriptOp.of(Sdpa.class, "sdpa_masked.pt");
    }
}
