package org.peft4j.methods.baselines.vpt;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.PeftMethod;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;
import org.peft4j.api.site.TokenSite;

/**
 * Visual Prompt Tuning (Jia et al. 2022): {@code P} learnable tokens per prompted block on the TOKENS sites,
 * between the prefix (cls) tokens and the patch tokens ({@link PromptAdapter}).
 *
 * <ul>
 *   <li>{@code mode = shallow}: the first TOKENS site (block 0) inserts {@code P} prompts; they then flow
 *       through every block like the other tokens;
 *   <li>{@code mode = deep} (default, the "VPT" row of the comparison tables): block 0 inserts, and every later
 *       block replaces the previous block's prompt outputs by its own {@code P} prompts, so the sequence stays
 *       {@code prefix + P + patches} long.
 * </ul>
 *
 * The backbone drops the prompts before pooling (TokenSite contract). Init as VPT's code: uniform in
 * {@code +-sqrt(6 / (3 p^2 + D))}, Xavier with fan-in the patch vector {@code 3 p^2} = {@code inFeatures()} of the
 * {@code patch_embed.proj} site; a model without that site falls back to fan-in D (bound {@code sqrt(6 / 2D)}).
 * Defaults: {@code prompts = 10} (VPT tunes the length per task, from 1 to 200 tokens; its code's default is
 * 5), {@code dropout = 0} (VPT's config default; NOAH's VPT runs use 0.1). Trainable count: {@code P x D} per
 * prompted block, as the runner counts it.
 */
public final class VptMethod implements PeftMethod {

    /** The site whose input width is VPT's Xavier fan-in. */
    static final String PATCH_EMBED_SITE = "patch_embed.proj";

    @Override
    public String id() {
        return "vpt";
    }

    @Override
    public String description() {
        return "VPT: learnable prompt tokens at the first block (shallow) or every block (deep)";
    }

    @Override
    public Tuner create(MethodContext context) {
        VptSettings settings = VptSettings.from(context);
        SiteSelector selector = SiteSelector.builder()
                .setTargets(List.of("**"))
                .setKinds(Set.of(SiteKind.TOKENS))
                .optConfigKey("method.mode in " + context.source() + " (vpt: prompts go on the TOKENS sites)")
                .build();
        return new Tuner() {
            @Override
            public void attach(AdaptableModel model) {
                List<TokenSite> sites = new ArrayList<>();
                for (SiteSelector.Match match : selector.select(model.name(), model.sites())) {
                    if (!(match.site() instanceof TokenSite tokens)) {
                        throw new PeftException("vpt: site " + match.site().id() + " of " + model.name()
                                + " is of kind TOKENS but not a TokenSite, so its prompt layout is unknown");
                    }
                    sites.add(tokens);
                }
                sites.sort(Comparator.comparingInt(AdapterSite::depth)); // stable: forward order within a depth
                List<TokenSite> prompted = settings.deep() ? sites : sites.subList(0, 1);
                requireOneSequence(model, prompted);
                long fanIn = model.site(PATCH_EMBED_SITE).map(AdapterSite::inFeatures)
                        .orElse(prompted.get(0).inFeatures());
                List<PromptAdapter> adapters = new ArrayList<>();
                for (int i = 0; i < prompted.size(); i++) {
                    TokenSite site = prompted.get(i);
                    PromptAdapter adapter = new PromptAdapter(site.id(),
                            i == 0 ? PromptAdapter.Mode.INSERT : PromptAdapter.Mode.REPLACE, settings.prompts(),
                            site.inFeatures(), site.prefixTokens(), settings.dropout(), fanIn);
                    adapter.initialize(model.manager(), DataType.FLOAT32);
                    adapters.add(adapter);
                }
                for (int i = 0; i < prompted.size(); i++) {
                    prompted.get(i).attach(adapters.get(i));
                }
            }
        };
    }

    /**
     * Deep prompts replace the previous block's, so every prompted site must see the same sequence layout (width
     * and prefix). A hierarchical backbone whose token sequence changes between stages needs its own scheme.
     */
    private static void requireOneSequence(AdaptableModel model, List<TokenSite> prompted) {
        TokenSite first = prompted.get(0);
        for (TokenSite site : prompted) {
            if (site.inFeatures() != first.inFeatures() || site.prefixTokens() != first.prefixTokens()) {
                throw new PeftException("vpt: deep prompts need one token layout, but on " + model.name() + " site "
                        + first.id() + " has width " + first.inFeatures() + " and " + first.prefixTokens()
                        + " prefix tokens while " + site.id() + " has " + site.inFeatures() + " and "
                        + site.prefixTokens() + "; use method.mode = shallow");
            }
        }
    }
}
