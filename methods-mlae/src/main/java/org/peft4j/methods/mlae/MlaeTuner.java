package org.peft4j.methods.mlae;

import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.Tuner;
import org.peft4j.api.analysis.RankOneSimilarity;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;

/**
 * MLAE for one run: attaches an {@link MlaeAdapter} to every selected Linear site (or output slice), builds
 * the {@link ExpertMasks} (one mask group per adapter, or per block with {@code mask-scope = block}; expert counts
 * and dropout are per block either way), draws them before every training forward pass, reports the parameters
 * that can train and the expert similarity after training.
 */
public final class MlaeTuner implements Tuner {

    private final MethodContext context;
    private final MlaeSettings settings;
    private final SiteSelector selector;
    private final List<MlaeAdapter> adapters = new ArrayList<>();
    private ExpertMasks masks;
    private int[] keptPerBlock;
    private double[] dropoutPerBlock;

    public MlaeTuner(MethodContext context, MlaeSettings settings) {
        this.context = context;
        this.settings = settings;
        this.selector = SiteSelector.forMethod(context, settings.targets(), settings.layers(), settings.exclude(),
                EnumSet.of(SiteKind.LINEAR));
    }

    public MlaeSettings settings() {
        return settings;
    }

    /** The masks, once attached. */
    public ExpertMasks masks() {
        if (masks == null) {
            throw new IllegalStateException("MLAE is not attached to a model yet");
        }
        return masks;
    }

    /** The adapters attached, in site order. */
    public List<MlaeAdapter> adapters() {
        return List.copyOf(adapters);
    }

    @Override
    public void attach(AdaptableModel model) {
        if (masks != null) {
            throw new IllegalStateException("MLAE is already attached; create a new tuner per run");
        }
        // Every check first, so that a failure leaves the model untouched.
        List<SiteSelector.Match> matches = selector.select(model.name(), model.sites());
        for (SiteSelector.Match match : matches) {
            int depth = match.site().depth();
            if (depth < 0 || depth >= model.depth()) {
                throw context.invalid("targets", "site " + match.site().id() + " of " + model.name()
                        + " is outside the blocks (depth " + depth + "); MLAE masks experts per block 0.."
                        + (model.depth() - 1) + ": exclude it or pick block sites");
            }
        }
        int[] kept = settings.expertsPerBlock(model.depth(), context);
        double[] dropout = settings.dropoutPerBlock(model.depth(), context);
        int experts = Arrays.stream(kept).max().orElse(settings.rank());
        // a mask group per adapted site (the authors' code), or the block's group shared by its sites
        int[] groupOf = new int[matches.size()];
        int groups = settings.masksPerSite() ? matches.size() : model.depth();
        int[] groupKept = settings.masksPerSite() ? new int[groups] : kept;
        double[] groupDropout = settings.masksPerSite() ? new double[groups] : dropout;
        for (int i = 0; i < matches.size(); i++) {
            int depth = matches.get(i).site().depth();
            groupOf[i] = settings.masksPerSite() ? i : depth;
            if (settings.masksPerSite()) {
                groupKept[i] = kept[depth];
                groupDropout[i] = dropout[depth];
            }
        }
        ExpertMasks built = new ExpertMasks(experts, groupKept, groupDropout);

        List<MlaeAdapter> created = new ArrayList<>();
        for (int i = 0; i < matches.size(); i++) {
            SiteSelector.Match match = matches.get(i);
            String name = match.slice() == null ? "mlae" : "mlae_" + match.slice().name();
            int rows = match.slice() == null ? match.site().outFeatures() : match.slice().size();
            MlaeAdapter adapter = new MlaeAdapter(name, match.site().inFeatures(), rows, match.slice(), groupOf[i], built,
                    settings);
            adapter.initialize(model.manager(), DataType.FLOAT32);
            created.add(adapter);
        }
        for (int i = 0; i < matches.size(); i++) {
            matches.get(i).site().attach(created.get(i));
        }
        model.setFrozenBackboneEval(settings.frozenEval());
        adapters.addAll(created);
        masks = built;
        keptPerBlock = kept;
        dropoutPerBlock = dropout;
    }

    @Override
    public TrainingHooks hooks() {
        return new TrainingHooks() {
            @Override
            public void beforeForward(StepContext step) {
                masks().draw(step);
            }
        };
    }

    /** How the preset was resolved and where dropout and lambda came from. */
    @Override
    public List<String> notes() {
        List<String> notes = new ArrayList<>();
        notes.add("preset " + settings.presetNote());
        if (settings.usesUniformDropout()) {
            notes.add("dropout " + settings.dropout() + " from " + settings.dropoutSource());
        }
        notes.add("lambda-init " + settings.lambdaInit() + " from " + settings.lambdaSource());
        return notes;
    }

    /**
     * The counted parameters minus those of experts that fixed masking keeps from ever training (their a_i,
     * b_i and lambda_i exist so that every block has the same shape, but never change).
     */
    @Override
    public long reportedParameterCount(long counted) {
        long frozenForGood = 0;
        for (MlaeAdapter adapter : adapters) {
            long perExpert = adapter.a().getShape().get(1) + adapter.b().getShape().get(1)
                    + (adapter.lambda() == null ? 0 : 1);
            frozenForGood += (masks.experts() - masks.trainableExperts(adapter.group())) * perExpert;
        }
        return counted - frozenForGood;
    }

    /**
     * {@code expert_similarity} (A.4; see {@link RankOneSimilarity}) and {@code mlae}: the settings in force
     * with their sources, the experts and dropout per block, and the learned coefficients' range.
     */
    @Override
    public Map<String, Object> analysis(AdaptableModel model) {
        Map<String, Object> result = new LinkedHashMap<>(RankOneSimilarity.analyse(model));
        Map<String, Object> mlae = new LinkedHashMap<>();
        mlae.put("masking", settings.masking().configName());
        mlae.put("preset", settings.preset().map(VtabPresets.Preset::dataset).orElse("none"));
        mlae.put("preset_resolution", settings.presetNote());
        if (settings.usesUniformDropout()) {
            mlae.put("dropout", settings.dropout());
            mlae.put("dropout_source", settings.dropoutSource());
        }
        mlae.put("lambda_init", settings.lambdaInit());
        mlae.put("lambda_source", settings.lambdaSource());
        mlae.put("mask_scope", settings.masksPerSite() ? "site" : "block");
        if (masks != null) {
            mlae.put("experts_per_block", Arrays.stream(keptPerBlock).boxed().toList());
            mlae.put("dropout_per_block", Arrays.stream(dropoutPerBlock).boxed().toList());
            lambdaRange(mlae);
        }
        result.put("mlae", mlae);
        return result;
    }

    private void lambdaRange(Map<String, Object> out) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        int n = 0;
        for (MlaeAdapter adapter : adapters) {
            if (adapter.lambda() == null) {
                return;
            }
            float[] lam = adapter.lambda().getArray().toFloatArray();
            for (int i = 0; i < masks.trainableExperts(adapter.group()); i++) {
                min = Math.min(min, lam[i]);
                max = Math.max(max, lam[i]);
                sum += lam[i];
                n++;
            }
        }
        if (n > 0) {
            out.put("lambda_mean", sum / n);
            out.put("lambda_min", min);
            out.put("lambda_max", max);
        }
    }
}
