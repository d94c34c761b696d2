package org.peft4j.methods.dmlora;

import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.peft4j.api.AdaptableModel;
import org.peft4j.api.MethodContext;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.TrainingPlan;
import org.peft4j.api.TrainingStage;
import org.peft4j.api.Tuner;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.site.SiteKind;
import org.peft4j.api.site.SiteSelector;

/**
 * DMLoRA for one run: attaches a {@link MixLoraAdapter} to every selected site, halves the branches at the epoch
 * starts the schedulers name (the dropped ones leave the model, hence the optimiser and its state), routes every
 * training step through one down and one up branch per site, reports the unrouted branches as idle, and appends
 * the scale stage of the 2-stage learning scalar to the plan.
 */
public final class DmloraTuner implements Tuner {

    /** The name of the extra stage that learns the scales. */
    public static final String SCALE_STAGE = "scales";

    /** The paper's placement on backbones with attention: q and v of every (window) attention qkv. */
    static final List<String> ATTENTION_TARGETS = List.of("attn.qkv:q", "attn.qkv:v");

    /** The supplementary's placement on ConvNeXt: the first linear layer of every block's MLP. */
    static final List<String> MLP_TARGETS = List.of("mlp.fc1");

    /** Live branch counts from an epoch on. */
    public record LiveCount(int epoch, int down, int up) {}

    private final MethodContext context;
    private final DmloraSettings settings;
    private final HalvingScheduler downScheduler;
    private final HalvingScheduler upScheduler;
    private final Map<String, MixLoraAdapter> adapters = new LinkedHashMap<>();
    private final List<LiveCount> history = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();
    private long trainingParameters;

    public DmloraTuner(MethodContext context, DmloraSettings settings) {
        this.context = context;
        this.settings = settings;
        this.downScheduler = settings.downScheduler();
        this.upScheduler = settings.upScheduler();
    }

    public DmloraSettings settings() {
        return settings;
    }

    /** The attached adapters by site label ({@code blocks.3.attn.qkv:q}), in site order. */
    public Map<String, MixLoraAdapter> adapters() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(adapters));
    }

    /** The attached adapters in site order. */
    public List<MixLoraAdapter> adapterList() {
        return List.copyOf(adapters.values());
    }

    /** The live counts after each change, from epoch 0 of the branch stage. */
    public List<LiveCount> history() {
        return List.copyOf(history);
    }

    @Override
    public void attach(AdaptableModel model) {
        if (!adapters.isEmpty()) {
            throw new IllegalStateException("DMLoRA is already attached; create a new tuner per run");
        }
        // Every check first, so that a failure leaves the model untouched.
        List<String> targets = settings.targets();
        if (targets.isEmpty()) {
            targets = hasAttentionQv(model) ? ATTENTION_TARGETS : MLP_TARGETS;
        }
        SiteSelector selector = SiteSelector.forMethod(context, targets, settings.layers(), settings.exclude(),
                EnumSet.of(SiteKind.LINEAR));
        List<SiteSelector.Match> matches = selector.select(model.name(), model.sites());
        int down = downScheduler.liveBranches(0);
        int up = upScheduler.liveBranches(0);
        Map<String, MixLoraAdapter> created = new LinkedHashMap<>();
        for (SiteSelector.Match match : matches) {
            String name = match.slice() == null ? "dmlora" : "dmlora_" + match.slice().name();
            MixLoraAdapter adapter = new MixLoraAdapter(name, match.site().inFeatures(), match.site().outFeatures(),
                    match.slice(), match.site().depth(), settings.rank(), down, up,
                    settings.init().initializer(settings.rank()), settings.identicalInit(), settings.scale());
            adapter.initialize(model.manager(), DataType.FLOAT32);
            created.put(match.label(), adapter);
        }
        for (int i = 0; i < matches.size(); i++) {
            matches.get(i).site().attach(created.get(matches.get(i).label()));
        }
        adapters.putAll(created);
        history.add(new LiveCount(0, down, up));
        for (MixLoraAdapter adapter : created.values()) {
            trainingParameters += (long) down * adapter.rank() * adapter.inFeatures() + (long) up * adapter.rows() * adapter.rank();
        }
        notes.add("targets " + targets + (settings.targets().isEmpty() ? " (the paper's placement for " + model.name() + ")" : "")
                + ": " + created.size() + " sites");
        notes.add("preset " + settings.presetNote() + "; branches " + settings.branches() + " from " + settings.branchesSource()
                + ", drop-every " + settings.dropEvery() + " from " + settings.dropEverySource());
        notes.add(String.format(Locale.ROOT, "scheme %s: down %s; up %s; %,d branch parameters train at the start, "
                + "%,d remain at inference (s * mean(B) mean(A) merged)", settings.scheme(), downScheduler, upScheduler,
                trainingParameters, reportedParameterCount(0)));
    }

    /** Whether the model has attention qkv sites with q and v slices (ViT, Swin) or not (ConvNeXt). */
    private static boolean hasAttentionQv(AdaptableModel model) {
        for (AdapterSite site : model.sites()) {
            boolean qkv = site.id().equals("attn.qkv") || site.id().endsWith(".attn.qkv");
            boolean qv = site.slices().stream().map(s -> s.name()).toList().containsAll(List.of("q", "v"));
            if (site.kind() == SiteKind.LINEAR && qkv && qv) {
                return true;
            }
        }
        return false;
    }

    @Override
    public TrainingPlan plan(TrainingPlan base) {
        int epochs = base.stages().get(0).epochs();
        notes.add("live branches (down, up) over the " + epochs + " epochs of stage " + base.stages().get(0).name() + ": "
                + schedule(epochs));
        if (!settings.scaleStage()) {
            return base;
        }
        notes.add(String.format(Locale.ROOT, "scale stage: %d epochs at lr %s, one learnable scale per %s from s = %s, %s "
                        + "branches, head %s", settings.scaleEpochs(), settings.scaleLr(),
                settings.perRowScale() ? "output row" : "site", settings.scale(),
                settings.scaleRoutedRandomly() ? "randomly routed" : "averaged",
                settings.scaleTrainHead() ? "trains" : "frozen"));
        return base.then(new TrainingStage(SCALE_STAGE, settings.scaleEpochs(), settings.scaleLr(),
                settings.scaleWeightDecay(), settings.scaleWarmupEpochs()));
    }

    /** {@code 8x8 from epoch 1, 4x4 from epoch 101, ...} (1-based epochs, as logs print them). */
    private String schedule(int epochs) {
        StringBuilder out = new StringBuilder();
        int down = -1;
        int up = -1;
        for (int e = 0; e < epochs; e++) {
            int d = downScheduler.liveBranches(e);
            int u = upScheduler.liveBranches(e);
            if (d != down || u != up) {
                out.append(out.length() == 0 ? "" : ", ").append(d).append('x').append(u).append(" from epoch ").append(e + 1);
                down = d;
                up = u;
            }
        }
        return out.length() == 0 ? "none (no epochs)" : out.toString();
    }

    @Override
    public List<String> notes() {
        return List.copyOf(notes);
    }

    @Override
    public TrainingHooks hooks() {
        return new TrainingHooks() {
            @Override
            public void onStageStart(TrainingStage stage, AdaptableModel model) {
                if (SCALE_STAGE.equals(stage.name())) {
                    startScaleStage(model);
                }
            }

            @Override
            public void onEpochStart(String stage, int epoch) {
                if (!SCALE_STAGE.equals(stage)) {
                    applySchedule(epoch);
                }
            }

            @Override
            public void beforeForward(StepContext step) {
                if (!SCALE_STAGE.equals(step.stage()) || settings.scaleRoutedRandomly()) {
                    drawRoutes(step.random());
                }
            }

            @Override
            public Set<Parameter> idleParameters(StepContext step) {
                if (SCALE_STAGE.equals(step.stage())) {
                    return Set.of(); // the branches are frozen: only the scales (and maybe the head) train
                }
                Set<Parameter> idle = new HashSet<>();
                adapters.values().forEach(a -> idle.addAll(a.idleBranches()));
                return idle;
            }
        };
    }

    /**
     * Halves the branches of every site where the schedule says fewer live from {@code epoch} on. Each site
     * and factor draws its survivors independently, from a stream seeded by (run seed, epoch).
     */
    public void applySchedule(int epoch) {
        int down = downScheduler.liveBranches(epoch);
        int up = upScheduler.liveBranches(epoch);
        Random random = new Random(new SplittableRandom(settings.seed() * 0x9E3779B97F4A7C15L + epoch).nextLong());
        boolean changed = false;
        for (MixLoraAdapter adapter : adapters.values()) {
            if (down < adapter.liveDown()) {
                adapter.shrinkDown(downScheduler.shrink(adapter.liveDown(), down, random), settings.resetSurvivors());
                changed = true;
            }
            if (up < adapter.liveUp()) {
                adapter.shrinkUp(upScheduler.shrink(adapter.liveUp(), up, random), settings.resetSurvivors());
                changed = true;
            }
        }
        if (changed) {
            history.add(new LiveCount(epoch, down, up));
        }
    }

    /** One down and one up branch per site (or one pair for every site), uniform over the live ones. */
    public void drawRoutes(Random random) {
        if (settings.sharedRoute()) {
            MixLoraAdapter any = adapters.values().iterator().next();
            int down = downScheduler.route(-1, any.liveDown(), random);
            int up = upScheduler.route(-1, any.liveUp(), random);
            adapters.values().forEach(a -> a.route(down, up));
            return;
        }
        for (MixLoraAdapter adapter : adapters.values()) {
            int down = downScheduler.route(adapter.depth(), adapter.liveDown(), random);
            int up = upScheduler.route(adapter.depth(), adapter.liveUp(), random);
            adapter.route(down, up);
        }
    }

    private void startScaleStage(AdaptableModel model) {
        for (MixLoraAdapter adapter : adapters.values()) {
            adapter.learnScale(settings.perRowScale());
            adapter.useAveragedBranches(!settings.scaleRoutedRandomly());
        }
        if (!settings.scaleTrainHead()) {
            model.headParameters().values().forEach(p -> p.freeze(true));
        }
    }

    /**
     * The inference form's size, as LoRA's: {@code r * (in + rows)} per site (the merged mixture mean(B) mean(A)
     * with the scale folded in), whatever the number of branches training holds now.
     */
    @Override
    public long reportedParameterCount(long counted) {
        long total = 0;
        for (MixLoraAdapter adapter : adapters.values()) {
            total += (long) adapter.rank() * (adapter.inFeatures() + adapter.rows());
        }
        return total;
    }

    /** {@code dmlora}: the settings in force, the live counts over the run and the learned scales. */
    @Override
    public Map<String, Object> analysis(AdaptableModel model) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("scheme", settings.scheme().name());
        out.put("preset", settings.preset().map(PruningPreset::configName).orElse("none"));
        out.put("preset_resolution", settings.presetNote());
        out.put("branches", settings.branches());
        out.put("branches_source", settings.branchesSource());
        out.put("drop_every", settings.dropEvery());
        out.put("drop_every_source", settings.dropEverySource());
        out.put("min_branches", settings.minBranches());
        List<Map<String, Object>> live = new ArrayList<>();
        for (LiveCount c : history) {
            live.add(Map.of("epoch", c.epoch() + 1, "down", c.down(), "up", c.up()));
        }
        out.put("live_branches", live);
        out.put("training_parameters_at_start", trainingParameters);
        out.put("inference_parameters", reportedParameterCount(0));
        Map<String, Object> scales = new LinkedHashMap<>();
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        int n = 0;
        for (Map.Entry<String, MixLoraAdapter> e : adapters.entrySet()) {
            float[] values = e.getValue().scaleValues();
            double mean = 0;
            for (float v : values) {
                mean += v / (double) values.length;
                min = Math.min(min, v);
                max = Math.max(max, v);
                sum += v;
                n++;
            }
            scales.put(e.getKey(), mean);
        }
        out.put("scales", scales);
        if (n > 0) {
            out.put("scale_mean", sum / n);
            out.put("scale_min", min);
            out.put("scale_max", max);
        }
        return Map.of("dmlora", out);
    }
}
