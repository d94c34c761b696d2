package org.peft4j.methods.baselines.vpt;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
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
 * <p>On Swin (VPT's {@code vit_prompt/swin_transformer.py}) the same holds per block, with prompts of each stage's
 * width: the backbone prepends a sample's prompts to each of its attention windows, averages their outputs over the
 * windows, repeats them four times at each patch merging and lets the MLPs and norms see them; deep prompts replace
 * them at every block after the first (so also right after each merge), as VPT's deep Swin does.
 *
 * <p>Pooling: a cls-token model drops the prompts (TokenSite contract). On average-pooled models (Swin, an
 * average-pooled ViT) {@code pool-prompts = true} (default) averages them with the patch tokens, as VPT's code does
 * for Swin and for MAE ViTs; {@code false} drops them. The frozen backbone runs in eval mode while the prompts train
 * ({@code frozen-eval = true}, VPT's {@code train()} override), which matters only with drop path.
 *
 * <p>Init as VPT's code: uniform in {@code +-sqrt(6 / (3 p^2 + D))} with {@code 3 p^2} the patch vector ({@code
 * patch_embed.proj}'s input) and {@code D} the embedding width ({@code patch_embed.proj}'s output: on Swin the
 * first stage's, for the prompts of every stage, as VPT's Swin); a model without that site falls back to the
 * site's width for both (bound {@code sqrt(6 / 2D)}). Defaults: {@code prompts = 10} (VPT tunes the length per task,
 * from 1 to 200 tokens; its code's default is 5), {@code dropout = 0} (VPT's config default; NOAH's VPT runs use
 * 0.1). Trainable count: {@code P x D} per prompted block, as the runner counts it.
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
                requireOnePrefix(model, prompted);
                Optional<AdapterSite> patchEmbed = model.site(PATCH_EMBED_SITE);
                List<PromptAdapter> adapters = new ArrayList<>();
                for (int i = 0; i < prompted.size(); i++) {
                    TokenSite site = prompted.get(i);
                    long fanIn = patchEmbed.map(AdapterSite::inFeatures).orElse(site.inFeatures());
                    long fanOut = patchEmbed.map(AdapterSite::outFeatures).orElse(site.inFeatures());
                    PromptAdapter adapter = new PromptAdapter(site.id(),
                            i == 0 ? PromptAdapter.Mode.INSERT : PromptAdapter.Mode.REPLACE, settings.prompts(),
                            site.inFeatures(), site.prefixTokens(), settings.dropout(), fanIn, fanOut);
                    adapter.initialize(model.manager(), DataType.FLOAT32);
                    adapters.add(adapter);
                }
                for (int i = 0; i < prompted.size(); i++) {
                    prompted.get(i).attach(adapters.get(i));
                }
                model.setPromptsPooled(settings.poolPrompts());
                model.setFrozenBackboneEval(settings.frozenEval());
            }
        };
    }

    /**
     * Deep prompts replace the previous block's, so every prompted site must put them at the same place (the same
     * number of prefix tokens); their width may change between stages (Swin).
     */
    private static void requireOnePrefix(AdaptableModel model, List<TokenSite> prompted) {
        TokenSite first = prompted.get(0);
        for (TokenSite site : prompted) {
            if (site.prefixTokens() != first.prefixTokens()) {
                throw new PeftException("vpt: deep prompts need one token layout, but on " + model.name() + " site "
                        + first.id() + " has " + first.prefixTokens() + " prefix tokens while " + site.id() + " has "
                        + site.prefixTokens() + "; use method.mode = shallow");
            }
        }
    }
}
