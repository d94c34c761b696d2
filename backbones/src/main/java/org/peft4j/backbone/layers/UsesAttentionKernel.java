package org.peft4j.backbone.layers;

import org.peft4j.api.AttentionKernel;

/** A block that computes softmax attention and can switch between the fused kernel and the reference ops. */
public interface UsesAttentionKernel {

    void useKernel(AttentionKernel kernel);
}
