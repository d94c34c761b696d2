package org.peft4j.api.site;

import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Optional;

/**
 * A hook point a backbone offers to methods. Ids are stable and follow timm's module names ({@code
 * blocks.3.attn.qkv}, {@code layers.2.blocks.5.mlp.fc1}, {@code stages.1.blocks.0.mlp}), so one target
 * pattern such as {@code mlp.fc1} means the same thing on ViT, Swin and ConvNeXt.
 *
 * <p>With no adapter attached a site computes exactly its frozen op. Attaching never rebuilds the block
 * tree: the site owns the op and calls its adapters in order.
 */
public interface AdapterSite {

    /** Stable id, e.g. {@code blocks.3.attn.qkv}. */
    String id();

    SiteKind kind();

    /**
     * Index of the transformer/conv block this site belongs to, counted over the whole network (Swin's
     * stages 2+2+6+2 give 0..11), or -1 for sites outside the blocks (patch embedding, final norm).
     */
    int depth();

    /** Input features (LINEAR) or feature width of the tensor at the site. */
    int inFeatures();

    /** Output features (LINEAR) or feature width of the tensor at the site. */
    int outFeatures();

    /** Named output ranges of a LINEAR site (q, k, v of a fused qkv); empty if none. */
    List<OutputSlice> slices();

    /** The frozen op's weight (LINEAR: {@code [out, in]}, NORM: {@code [features]}), if it has one. */
    Optional<Parameter> weight();

    /** The frozen op's bias, if it has one. */
    Optional<Parameter> bias();

    /** Attaches an adapter after those already attached. */
    void attach(Adapter adapter);

    /** Removes an attached adapter (unmerged sites only). */
    void detach(Adapter adapter);

    /** The attached adapters in forward order. */
    List<Adapter> adapters();

    /**
     * Switches to the inference form: foldable adapters are folded into the weights, the others are replaced
     * by their {@link Adapter#inferenceForm()}. Refused if already merged.
     */
    void merge();

    /** Restores the exact pre-merge weights and adapters. No-op if not merged. */
    void unmerge();

    boolean isMerged();

    /** The slice of the given name, or an error naming the slices this site has. */
    default OutputSlice slice(String name) {
        return slices().stream()
                .filter(s -> s.name().equals(name))
                .findFirst()
                .orElseThrow(
                        () ->
                                new IllegalArgumentException(
                                        "site "
                                                + id()
                                                + " has no output slice '"
                                                + name
                                                + "' (it has "
                                                + slices().stream().map(OutputSlice::name).toList()
                                                + ")"));
    }
}
