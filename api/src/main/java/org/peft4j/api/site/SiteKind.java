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
    /**
     * The attention branch of a block: input = residual stream, output = attention(norm1(input)), before layer
     * scale and drop path.
     */
    ATTENTION,
    /**
     * The feed-forward branch of a block: output = the MLP's result before layer scale, drop path and the
     * residual add. Its input is the residual stream for pre-norm transformers (ViT, Swin: output =
     * mlp(norm2(input))) and the normed channels-last tensor for ConvNeXt; each backbone documents its own.
     */
    FFN,
    /**
     * What the attention branch adds to the residual stream: input = the stream entering the branch, output =
     * drop_path(layer_scale(attention branch output)), which the block then adds to the stream. Adapters here sit
     * outside the branch's layer scale and drop path ({@link ResidualSite}).
     */
    ATTENTION_RESIDUAL,
    /**
     * What the feed-forward branch adds to the stream, after its layer scale and drop path: input = what the FFN
     * site reads, output = drop_path(layer_scale(FFN output)), which the block then adds to its shortcut
     * ({@link ResidualSite}). AdaptFormer's code adds its parallel adapter here.
     */
    FFN_RESIDUAL,
    /**
     * The block's MLP on its normed input (timm's {@code mlp} module): input = norm2's output, output = mlp(input),
     * inside the branch (before layer scale and drop path). MoSA's Swin adapters read this input. ConvNeXt's FFN
     * site already reads the normed tensor, so ConvNeXt has no MLP site.
     */
    MLP,
    /**
     * A 2-D convolution on NCHW tensors ({@link ConvSite}): adapters get {@code (input [B, Cin, H, W], output [B,
     * Cout, H', W'])} with channels in dimension 1, not last.
     */
    CONV,
    /**
     * A point on the feature path without a frozen op (timm's {@code Identity} norms: the {@code norm} of an
     * average-pooled ViT, ConvNeXt's {@code norm_pre}): output = input, features last. Nothing folds into it.
     */
    IDENTITY,
    /** The token sequence entering a block, {@code [B, N, D]}: output = input (prompts go here). */
    TOKENS
}
