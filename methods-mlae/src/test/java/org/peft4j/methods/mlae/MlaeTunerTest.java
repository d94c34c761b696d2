package org.peft4j.methods.mlae;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.peft4j.api.MethodContext;
import org.peft4j.api.PeftException;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.analysis.RankOneFactors;
import org.peft4j.api.analysis.RankOneSimilarity;
import org.peft4j.api.site.AdapterSite;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;

class MlaeTunerTest {

    private static final int DIM = 8;

    private static MlaeTuner tuner(String overrides, long seed) {
        MethodContext base = TestContexts.method("mlae", overrides, "test");
        MethodContext ctx = new MethodContext(base.settings(), base.source(), seed, base.dataset(), base.numClasses());
        return (MlaeTuner) new MlaeMethod().create(ctx);
    }

    /** A step as the runner makes it: a random stream seeded from (run seed, step). */
    private static StepContext step(long runSeed, long step, TinyModel model) {
        return new StepContext("main", 0, step, new Random(runSeed * 1_000_003L + step), model.manager());
    }

    private static void randomise(MlaeTuner tuner, TinyModel model) {
        for (MlaeAdapter adapter : tuner.adapters()) {
            for (Parameter p : List.of(adapter.b(), adapter.lambda())) {
                p.getArray().intern(model.manager().randomNormal(0.5f, 0.5f, p.getShape(), p.getArray().getDataType()));
                p.getArray().setRequiresGradient(true);
            }
        }
    }

    private static long trainableCount(TinyModel model) {
        long n = 0;
        for (AdapterSite site : model.sites()) {
            for (var adapter : site.adapters()) {
                for (Parameter p : adapter.getParameters().values()) {
                    if (p.requiresGradient()) {
                        n += p.getShape().size();
                    }
                }
            }
        }
        return n;
    }

    @Test
    void attachesOneAdapterToTheFusedQkvOfEveryBlock() {
        try (TinyModel model = new TinyModel(DIM, 3, 4, 1)) {
            MlaeTuner tuner = tuner("", 1);
            tuner.attach(model);
            List<String> adapted = model.sites().stream().filter(s -> !s.adapters().isEmpty())
                    .map(s -> s.id() + s.adapters().stream().map(a -> "/" + a.name()).toList()).toList();
            assertThat(adapted).containsExactly("blocks.0.attn.qkv[/mlae]", "blocks.1.attn.qkv[/mlae]",
                    "blocks.2.attn.qkv[/mlae]");
            MlaeAdapter a = tuner.adapters().get(0);
            assertThat(a.a().getShape()).isEqualTo(new Shape(8, DIM));
            assertThat(a.b().getShape()).isEqualTo(new Shape(8, 3 * DIM));
            assertThat(a.getParameters().values()).allMatch(Parameter::requiresGradient);
            // stochastic masking keeps every expert: nothing to subtract from the count
            assertThat(tuner.reportedParameterCount(trainableCount(model))).isEqualTo(3 * 8 * (DIM + 3 * DIM + 1));
        }
    }

    @Test
    void slicesAndOtherSitesCanBeTargeted() {
        try (TinyModel model = new TinyModel(DIM, 2, 4, 2)) {
            MlaeTuner tuner = tuner("targets = [\"attn.qkv:q\", \"attn.qkv:v\", mlp.fc1], rank = 4", 1);
            tuner.attach(model);
            assertThat(model.site("blocks.1.attn.qkv").orElseThrow().adapters()).extracting(a -> a.name())
                    .containsExactly("mlae_q", "mlae_v");
            assertThat(tuner.adapters()).hasSize(6);
            MlaeAdapter fc1 = (MlaeAdapter) model.site("blocks.0.mlp.fc1").orElseThrow().adapters().get(0);
            assertThat(fc1.b().getShape()).isEqualTo(new Shape(4, 2 * DIM));
        }
    }

    @Test
    void sitesOutsideTheBlocksAreRefusedBeforeTheModelIsTouched() {
        try (TinyModel model = new TinyModel(DIM, 2, 4, 2)) {
            MlaeTuner tuner = tuner("targets = [attn.qkv, head]", 1);
            assertThatThrownBy(() -> tuner.attach(model)).isInstanceOf(PeftException.class)
                    .hasMessageContaining("method.targets").hasMessageContaining("head");
            assertThat(model.sites()).allMatch(s -> s.adapters().isEmpty());
        }
    }

    @Test
    void explicitListsMustHaveOneEntryPerBlock() {
        try (TinyModel model = new TinyModel(DIM, 3, 4, 2)) {
            MlaeTuner tuner = tuner("masking = fixed, experts-per-layer = [1, 2]", 1);
            assertThatThrownBy(() -> tuner.attach(model)).hasMessageContaining("method.experts-per-layer")
                    .hasMessageContaining("3 blocks");
            assertThat(model.sites()).allMatch(s -> s.adapters().isEmpty());
        }
    }

    @Test
    void sameSeedSameMasksAndTheMaskChangesEveryStep() {
        List<float[]> first = new ArrayList<>();
        List<float[]> second = new ArrayList<>();
        List<float[]> otherSeed = new ArrayList<>();
        for (int run = 0; run < 3; run++) {
            long seed = run == 2 ? 8 : 7;
            try (TinyModel model = new TinyModel(DIM, 4, 4, 3)) {
                MlaeTuner tuner = tuner("dropout = 0.5", seed);
                tuner.attach(model);
                TrainingHooks hooks = tuner.hooks();
                for (long s = 0; s < 20; s++) {
                    hooks.beforeForward(step(seed, s, model));
                    for (int l = 0; l < 4; l++) {
                        (run == 0 ? first : run == 1 ? second : otherSeed).add(tuner.masks().trainingMask(l).clone());
                    }
                }
            }
        }
        int differentSteps = 0;
        for (int i = 0; i < first.size(); i++) {
            assertThat(second.get(i)).containsExactly(first.get(i));
            if (i >= 4 && !Arrays.equals(first.get(i), first.get(i - 4))) {
                differentSteps++;
            }
        }
        assertThat(differentSteps).isGreaterThan(60); // of 76: P(two 8-expert masks agree) = 2^-8
        long equalToOtherSeed = 0;
        for (int i = 0; i < first.size(); i++) {
            equalToOtherSeed += Arrays.equals(first.get(i), otherSeed.get(i)) ? 1 : 0;
        }
        assertThat(equalToOtherSeed).isLessThan(5);
        // every kept value is the inverted-dropout scale
        assertThat(first.stream().flatMap(m -> { List<Float> v = new ArrayList<>(); for (float x : m) v.add(x); return v.stream(); })
                .distinct()).containsExactlyInAnyOrder(0f, 2f);
    }

    @Test
    void trainingForwardBeforeAnyDrawIsRefused() {
        try (TinyModel model = new TinyModel(DIM, 2, 4, 3)) {
            MlaeTuner tuner = tuner("dropout = 0.5", 1);
            tuner.attach(model);
            NDArray x = model.manager().randomNormal(new Shape(2, 3, DIM));
            assertThatThrownBy(() -> model.logits(x, true)).hasMessageContaining("beforeForward");
            assertThat(model.logits(x, false).getShape()).isEqualTo(new Shape(2, 4)); // eval needs no draw
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"uniform", "incremental", "decremental", "hourglass", "protruding", "random"})
    void fixedPatternsKeepTheBudgetOfRankTimesBlocks(String pattern) {
        try (TinyModel model = new TinyModel(DIM, 12, 4, 4)) {
            MlaeTuner tuner = tuner("masking = fixed, experts-pattern = " + pattern, 5);
            tuner.attach(model);
            ExpertMasks masks = tuner.masks();
            int total = 0;
            for (int l = 0; l < 12; l++) {
                total += masks.trainableExperts(l);
                float[] inference = masks.inferenceMask(l);
                for (int i = 0; i < masks.experts(); i++) {
                    assertThat(inference[i]).isEqualTo(i < masks.kept(l) ? 1f : 0f);
                }
            }
            assertThat(total).isEqualTo(96);
            long perExpert = DIM + 3 * DIM + 1;
            assertThat(trainableCount(model)).isEqualTo(12L * masks.experts() * perExpert);
            assertThat(tuner.reportedParameterCount(trainableCount(model))).isEqualTo(96 * perExpert);
            if (pattern.equals("incremental")) {
                assertThat(masks.experts()).isEqualTo(14);
                assertThat(java.util.stream.IntStream.range(0, 12).map(masks::kept).toArray())
                        .containsExactly(2, 2, 2, 6, 6, 6, 10, 10, 10, 14, 14, 14);
            }
        }
    }

    /** Runs one training step of the whole model and returns the adapters' gradients, then clears them. */
    private static List<float[][]> oneStep(MlaeTuner tuner, TinyModel model, long runSeed, long stepIndex) {
        tuner.hooks().beforeForward(step(runSeed, stepIndex, model));
        NDArray x = model.manager().randomNormal(new Shape(4, 5, DIM));
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            collector.backward(model.logits(x, true).square().sum());
        }
        List<float[][]> grads = new ArrayList<>();
        for (MlaeAdapter adapter : tuner.adapters()) {
            float[][] g = new float[3][];
            int k = 0;
            for (Parameter p : List.of(adapter.a(), adapter.b(), adapter.lambda())) {
                NDArray grad = p.getArray().getGradient();
                g[k++] = grad.toFloatArray();
                grad.subi(grad.duplicate());
            }
            grads.add(g);
        }
        return grads;
    }

    @Test
    void everySiteDrawsItsOwnMaskByDefaultAndABlocksSitesShareOneWithMaskScopeBlock() {
        // three sites per block; which experts get no lambda gradient in a step is what that site's mask dropped
        for (String scope : List.of("site", "block")) {
            try (TinyModel model = new TinyModel(DIM, 3, 4, 12)) {
                MlaeTuner tuner = tuner("targets = [\"attn.qkv:q\", \"attn.qkv:v\", mlp.fc1], dropout = 0.5, mask-scope = "
                        + scope, 21);
                tuner.attach(model);
                randomise(tuner, model);
                Map<MlaeAdapter, Integer> depthOf = new java.util.IdentityHashMap<>();
                model.sites().forEach(site -> site.adapters().forEach(a -> depthOf.put((MlaeAdapter) a, site.depth())));
                int sameWithinBlock = 0;
                int sameAcrossBlocks = 0;
                int pairsWithinBlock = 0;
                for (long s = 0; s < 10; s++) {
                    List<float[][]> grads = oneStep(tuner, model, 21, s);
                    List<String> dropped = new ArrayList<>();
                    for (float[][] g : grads) {
                        StringBuilder zeros = new StringBuilder();
                        for (float lambdaGrad : g[2]) {
                            zeros.append(lambdaGrad == 0f ? '0' : '1');
                        }
                        dropped.add(zeros.toString());
                    }
                    for (int i = 0; i < grads.size(); i++) {
                        for (int j = i + 1; j < grads.size(); j++) {
                            boolean same = dropped.get(i).equals(dropped.get(j));
                            if (depthOf.get(tuner.adapters().get(i)).equals(depthOf.get(tuner.adapters().get(j)))) {
                                sameWithinBlock += same ? 1 : 0;
                                pairsWithinBlock++;
                            } else {
                                sameAcrossBlocks += same ? 1 : 0;
                            }
                        }
                    }
                }
                // two independent 8-expert masks agree with probability 2^-8 (270 pairs across blocks here)
                assertThat(sameAcrossBlocks).as(scope).isLessThanOrEqualTo(4);
                if (scope.equals("site")) {
                    assertThat(sameWithinBlock).as(scope).isLessThanOrEqualTo(2);
                } else {
                    assertThat(sameWithinBlock).as(scope).isEqualTo(pairsWithinBlock);
                }
                assertThat(((Map<?, ?>) tuner.analysis(model).get("mlae")).get("mask_scope")).isEqualTo(scope);
            }
        }
    }

    @Test
    void mixedMasksNeverTrainMaskedExpertsAndDropTheOthersPerStep() {
        try (TinyModel model = new TinyModel(DIM, 12, 4, 6)) {
            MlaeTuner tuner = tuner("masking = mixed, dropout = 0.5", 9);
            tuner.attach(model);
            randomise(tuner, model);
            ExpertMasks masks = tuner.masks();
            int experts = masks.experts();
            boolean someKeptExpertDropped = false;
            for (long s = 0; s < 3; s++) {
                List<float[][]> grads = oneStep(tuner, model, 9, s);
                for (int l = 0; l < 12; l++) {
                    float[] mask = masks.trainingMask(l);
                    float[][] g = grads.get(l);
                    for (int i = 0; i < experts; i++) {
                        boolean on = mask[i] != 0f;
                        assertThat(on).isEqualTo(on && i < masks.kept(l)); // masked for good = never on
                        float aNorm = 0;
                        float bNorm = 0;
                        for (int k = 0; k < DIM; k++) {
                            aNorm += Math.abs(g[0][i * DIM + k]);
                        }
                        for (int k = 0; k < 3 * DIM; k++) {
                            bNorm += Math.abs(g[1][i * 3 * DIM + k]);
                        }
                        if (on) {
                            assertThat(aNorm).isPositive();
                            assertThat(bNorm).isPositive();
                            assertThat(g[2][i]).isNotZero();
                        } else {
                            assertThat(aNorm).isZero();
                            assertThat(bNorm).isZero();
                            assertThat(g[2][i]).isZero();
                            someKeptExpertDropped |= i < masks.kept(l);
                        }
                    }
                }
            }
            assertThat(someKeptExpertDropped).isTrue();
        }
    }

    @Test
    void mergedModelEqualsTheUnmergedEvalModel() {
        for (String masking : List.of("stochastic", "fixed", "mixed", "none")) {
            try (TinyModel model = new TinyModel(DIM, 6, 4, 7)) {
                MlaeTuner tuner = tuner("masking = " + masking + ", targets = [attn.qkv, mlp.fc2]", 3);
                tuner.attach(model);
                NDArray x = model.manager().randomNormal(new Shape(3, 5, DIM));
                NDArray frozen = model.logits(x, false); // b = 0: the frozen model
                randomise(tuner, model);
                tuner.hooks().beforeForward(step(3, 0, model));
                NDArray unmerged = model.logits(x, false);
                assertThat(unmerged.sub(frozen).abs().max().getFloat()).isGreaterThan(0.01f); // the adapters matter
                model.sites().forEach(AdapterSite::merge);
                NDArray merged = model.logits(x, false);
                model.sites().forEach(AdapterSite::unmerge);
                double diff = merged.sub(unmerged).abs().max().getFloat();
                System.out.printf("MLAE %s: max |merged - unmerged| logits = %.3g (|logits| max %.2f)%n", masking, diff,
                        unmerged.abs().max().getFloat());
                assertThat(diff).as(masking).isLessThanOrEqualTo(1e-5);
                assertThat(model.logits(x, false).sub(unmerged).abs().max().getFloat()).isZero();
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void analysisReportsExpertSimilarityAndTheSettingsInForce() {
        try (TinyModel model = new TinyModel(DIM, 12, 4, 8)) {
            MethodContext base = TestContexts.method("mlae", "masking = mixed", "cifar");
            MlaeTuner tuner = (MlaeTuner) new MlaeMethod().create(base);
            tuner.attach(model);
            assertThat(tuner.analysis(model)).doesNotContainKey(RankOneSimilarity.KEY); // b = 0: no direction yet
            randomise(tuner, model);
            Map<String, Object> analysis = tuner.analysis(model);
            Map<String, Object> sim = (Map<String, Object>) analysis.get(RankOneSimilarity.KEY);
            // fixed-masked experts are left out: pairs = sum over blocks of C(kept, 2) = 3 * (1 + 15 + 45 + 91)
            assertThat(sim.get("pairs")).isEqualTo(456);
            double block3 = RankOneSimilarity.pairwise(tuner.adapters().get(3).rankOneFactors()).mean();
            assertThat((Map<String, Double>) sim.get("blocks")).containsEntry("3", block3);
            assertThat((double) sim.get("model")).isBetween(-1.0, 1.0);
            RankOneFactors f = tuner.adapters().get(0).rankOneFactors();
            assertThat(f.coefficients()[1]).isEqualTo(tuner.adapters().get(0).lambda().getArray().getFloat(1));
            assertThat(f.coefficients()[2]).isZero(); // block 0 keeps 2 experts
            Map<String, Object> mlae = (Map<String, Object>) analysis.get("mlae");
            assertThat(mlae).containsEntry("preset", "cifar").containsEntry("dropout", 0.7)
                    .containsEntry("lambda_init", 2.0).containsEntry("masking", "mixed");
            assertThat((List<Integer>) mlae.get("experts_per_block")).containsExactly(2, 2, 2, 6, 6, 6, 10, 10, 10, 14, 14, 14);
            assertThat((List<Double>) mlae.get("dropout_per_block")).containsOnly(0.7);
        }
    }
}
