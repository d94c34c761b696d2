package org.peft4j.api;

/**
 * How to build a backbone for one run.
 *
 * @param name variant name, e.g. {@code vit_base_patch16_224}
 * @param numClasses classifier outputs; 0 = no head (the model returns pooled features)
 * @param imageSize input size, or 0 for the variant's default
 * @param dropPathRate stochastic depth rate of the last block (linearly increasing over depth, as timm)
 * @param inChannels input channels (3 for RGB)
 * @param attention how attention is computed (fused SDPA by default; MATH is the reference)
 */
public record BackboneOptions(String name, int numClasses, int imageSize, double dropPathRate, int inChannels,
        AttentionKernel attention) {

    public BackboneOptions(String name, int numClasses, int imageSize, double dropPathRate, int inChannels) {
        this(name, numClasses, imageSize, dropPathRate, inChannels, AttentionKernel.SDPA);
    }

    public static BackboneOptions of(String name, int numClasses) {
        return new BackboneOptions(name, numClasses, 0, 0.0, 3);
    }

    public BackboneOptions withImageSize(int size) {
        return new BackboneOptions(name, numClasses, size, dropPathRate, inChannels, attention);
    }

    public BackboneOptions withDropPath(double rate) {
        return new BackboneOptions(name, numClasses, imageSize, rate, inChannels, attention);
    }

    public BackboneOptions withNumClasses(int classes) {
        return new BackboneOptions(name, classes, imageSize, dropPathRate, inChannels, attention);
    }

    public BackboneOptions withAttention(AttentionKernel kernel) {
        return new BackboneOptions(name, numClasses, imageSize, dropPathRate, inChannels, kernel);
    }
}
