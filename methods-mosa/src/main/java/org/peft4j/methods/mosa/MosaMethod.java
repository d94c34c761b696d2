package org.peft4j.methods.mosa;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.nn.Bottleneck;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.Placement;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;

/**
 * MoSA, Mixture of Sparse Adapters (Zhang et al., arXiv 2312.02923): a bottleneck adapter whose projections are
 * split into N disjoint sparse experts, one drawn per forward pass, trained with a two-pass consistency loss and
 * merged into one adapter before every evaluation (no extra cost at inference). The paper's method is the default;
 * {@code preset = reference-code} switches every choice where the authors' code differs. Options: {@code
 * peft4j.methods.mosa} in reference.conf.
 *
 * <p>Placement by style (where the authors' code puts each adapter; {@link Placement}):
 *
 * <ul>
 *   <li>{@code adaptformer}, parallel to the FFN, reading what the chosen site reads ({@code placement}): {@code
 *       after-drop-path} = the residual stream entering the FFN branch, the adapter's output added outside layer
 *       scale and drop path (the code's ViT, as AdaptFormer's); {@code mlp} = inside the MLP on its normed input,
 *       under drop path, no extra LayerNorm (the code's Swin); {@code inside} = the FFN branch, inside layer scale
 *       and drop path (on ConvNeXt that is the MLP on the normed tensor). {@code auto}: on hierarchical models (FFN
 *       sites of several widths) {@code mlp}, or {@code inside} where the model has no MLP sites (ConvNeXt); on
 *       isotropic ones (ViT) {@code after-drop-path};
 *   <li>{@code pfeiffer}: serial on every FFN branch's output ({@code inside});
 *   <li>{@code houlsby}: on the residual stream after every attention and every FFN branch ({@code after-add}: the
 *       residual sites, reading their input plus their output).
 * </ul>
 */
public final class MosaMethod implements PeftMethod {

    @Override
    public String id() {
        return "mosa";
    }

    @Override
    public String description() {
        return "MoSA: an adapter split into N sparse experts, one trained per pass with a two-pass consistency loss, "
                + "merged into one adapter for inference (paper or reference-code preset)";
    }

    @Override
    public Tuner create(MethodContext context) {
        MosaSettings settings = MosaSettings.from(context);
        return new MixtureTuner(id(), settings.mixture(), settings.describe(), model -> attach(model, context, settings));
    }

    /** One kind of site the style adapts and what its adapters read there. */
    private record Where(SiteKind kind, Bottleneck.Reads reads) {}

    private static List<Where> placements(AdaptableModel model, MosaSettings settings) {
        return switch (settings.style()) {
            case ADAPTFORMER -> List.of(new Where(
                    settings.placement().orElseGet(() -> auto(model)).siteKind(SiteKind.FFN), Bottleneck.Reads.INPUT));
            case PFEIFFER -> List.of(new Where(Placement.INSIDE.siteKind(SiteKind.FFN), Bottleneck.Reads.OUTPUT));
            case HOULSBY -> List.of(new Where(Placement.AFTER_ADD.siteKind(SiteKind.ATTENTION), Bottleneck.Reads.STREAM),
                    new Where(Placement.AFTER_ADD.siteKind(SiteKind.FFN), Bottleneck.Reads.STREAM));
        };
    }

    /** The code's placement of the parallel adapter on this model: see the class comment. */
    static Placement auto(AdaptableModel model) {
        Set<Integer> widths = new HashSet<>();
        model.sites().stream().filter(s -> s.kind() == SiteKind.FFN).forEach(s -> widths.add(s.inFeatures()));
        if (widths.size() <= 1) {
            return Placement.AFTER_DROP_PATH;
        }
        return hasKind(model, SiteKind.MLP) ? Placement.MLP : Placement.INSIDE;
    }

    /**
     * Whether a site's input is already the block's normed tensor: an MLP site's always; an FFN or FFN_RESIDUAL site's
     * where the model has no MLP sites (ConvNeXt: its FFN site reads the norm's output, see {@link SiteKind#MLP}).
     */
    static boolean readsNormed(AdaptableModel model, SiteKind kind) {
        return kind == SiteKind.MLP
                || (kind == SiteKind.FFN || kind == SiteKind.FFN_RESIDUAL) && !hasKind(model, SiteKind.MLP);
    }

    private static boolean hasKind(AdaptableModel model, SiteKind kind) {
        return model.sites().stream().anyMatch(s -> s.kind() == kind);
    }

    private static List<MixtureAdapter> attach(AdaptableModel model, MethodContext context, MosaSettings settings) {
        // select and check everything first: a failure leaves the model untouched
        List<AdapterSite> sites = new ArrayList<>();
        List<MosaAdapter.Structure> structures = new ArrayList<>();
        for (Where placement : placements(model, settings)) {
            SiteSelector selector = SiteSelector.builder()
                    .setTargets(List.of("**"))
                    .setKinds(Set.of(placement.kind()))
                    .optLayers(settings.layers())
                    .optConfigKey("method.style = " + settings.style().configName() + " / method.placement / method.layers in "
                            + context.source() + " (mosa: every " + placement.kind() + " site)")
                    .build();
            for (SiteSelector.Match match : selector.select(model.name(), model.sites())) {
                AdapterSite site = match.site();
                if (settings.splitBiases() && settings.mixture().split().up() && site.outFeatures() < settings.mixture().experts()) {
                    throw context.invalid("experts", settings.mixture().experts() + " experts cannot split the "
                            + site.outFeatures() + "-entry up bias of " + site.id());
                }
                sites.add(site);
                structures.add(settings.structure(site.outFeatures(), placement.reads(), readsNormed(model, placement.kind())));
            }
        }
        Random masks = maskStream(context.seed());
        List<MixtureAdapter> adapters = new ArrayList<>();
        for (int i = 0; i < sites.size(); i++) {
            MosaAdapter adapter = new MosaAdapter("mosa", structures.get(i), settings.layout(), settings.mixture().merge(), masks);
            adapter.initialize(model.manager(), DataType.FLOAT32);
            adapters.add(adapter);
        }
        for (int i = 0; i < sites.size(); i++) {
            sites.get(i).attach(adapters.get(i));
        }
        return adapters;
    }

    /** The split masks' random stream: a function of the run seed only, consumed in site order. */
    static Random maskStream(long seed) {
        return new Random(seed * 0x9E3779B97F4A7C15L + 0x6D6F7361L);
    }
}
