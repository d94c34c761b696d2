package org.peft4j.api.site;

/**
 * What a site computes. Every site maps (input) to (output) and lets attached adapters rewrite the
 * output; the kind says what the frozen op in between is.
 */
public enum SiteKind {
    /** A frozen {@code y = W x + b} over the last dimension (qkv, proj, fc1, fc2, pwconv). */
    LINEAR,
    /** A LayerNorm over the last dimension, with its affine weight and bias. */
    NORM,
    /** The attention branch of a block: input = residual stream, output = attention(norm1(input)). */
    ATTENTION,
    /**
     * The feed-forward branch of a block: output = the MLP's result before the residual add. Its input is the
     * residual stream for pre-norm transformers (ViT, Swin: output = mlp(norm2(input))) and the normed
     * channels-last tensor for ConvNeXt; each backbone documents its own.
     */
    FFN,
    /** The token sequence entering a block, {@code [B, N, D]}: output = input (prompts go here). */
    TOKENS
}
