package org.peft4j.methods.dmlora;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.peft4j.api.MethodContext;
import org.peft4j.api.StepContext;
import org.peft4j.api.TrainingHooks;
import org.peft4j.api.TrainingPlan;
import org.peft4j.api.TrainingStage;
import org.peft4j.api.testing.TestContexts;
import org.peft4j.api.testing.TinyModel;

class DmloraTunerTest {

    private static final TrainingStage MAIN = new TrainingStage("main", 10, 1e-3, 1e-4, 0);

    private static DmloraTuner tuner(String overrides) {
        return (DmloraTuner) new DmloraMethod().create(TestContexts.method("dmlora", overrides));
    }

    private static DmloraTuner tuner(String overrides, long seed) {
        MethodContext base = TestContexts.method("dmlora", overrides);
        return (DmloraTuner) new DmloraMethod().create(new MethodContext(base.settings(), base.source(), seed,
                base.dataset(), base.numClasses()));
    }

    /** The trainer's per-step stream: seeded from the step alone, as the runner seeds it from (seed, stage, step). */
    private static StepContext step(String stage, int epoch, long step, NDManager manager) {
        return new StepContext(stage, epoch, step, new Random(new SplittableRandom(step).nextLong()), manager);
    }

    @Test
    void attachesToQAndVOfEveryBlockWithLorasInferenceSize() {
        try (TinyModel model = new TinyModel(8, 4, 3, 1)) {
            DmloraTuner t = tuner("");
            t.attach(model);
            assertThat(t.adapters().keySet()).hasSize(8).contains("blocks.0.attn.qkv:q", "blocks.3.attn.qkv:v");
            MixLoraAdapter a = t.adapters().get("blocks.2.attn.qkv:v");
            assertThat(a.liveDown()).isEqualTo(8);
            assertThat(a.liveUp()).isEqualTo(8);
            assertThat(a.downBranches()).allMatch(p -> p.getShape().equals(new Shape(8, 8)));
            // 8 sites x r (in + rows) = 8 x 8 x (8 + 8): LoRA's count, whatever the branches
            assertThat(t.reportedParameterCount(123456)).isEqualTo(8L * 8 * 16);
            assertThat(t.notes()).anySatisfy(n -> assertThat(n).contains("[attn.qkv:q, attn.qkv:v]")
                    .contains("paper's placement"));
        }
    }

    @Test
    void liveBranchCountFollowsTheScheduleAtEveryEpoch() {
        int[] expected = {8, 8, 4, 4, 2, 2, 1, 1, 1, 1};
        for (String scheme : List.of("E", "B", "C", "D", "A")) {
            try (TinyModel model = new TinyModel(8, 2, 3, 1)) {
                DmloraTuner t = tuner((scheme.equals("A") ? "" : "drop-every = 2, ") + "scheme = " + scheme);
                t.attach(model);
                TrainingHooks hooks = t.hooks();
                for (int epoch = 0; epoch < expected.length; epoch++) {
                    hooks.onEpochStart("main", epoch);
                    int down = switch (scheme) {
                        case "A" -> 8;
                        case "D" -> 1;
                        default -> expected[epoch];
                    };
                    int up = switch (scheme) {
                        case "A" -> 8;
                        case "C" -> 1;
                        default -> expected[epoch];
                    };
                    for (MixLoraAdapter a : t.adapterList()) {
                        assertThat(a.liveDown()).as("scheme %s epoch %d down", scheme, epoch).isEqualTo(down);
                        assertThat(a.liveUp()).as("scheme %s epoch %d up", scheme, epoch).isEqualTo(up);
                        assertThat(a.getParameters().size()).isEqualTo(down + up);
                    }
                }
                // the scale stage never halves
                hooks.onEpochStart(DmloraTuner.SCALE_STAGE, 0);
                assertThat(t.adapterList().get(0).liveDown()).isEqualTo(scheme.equals("A") ? 8 : scheme.equals("D") ? 1 : 1);
            }
        }
    }

    @Test
    void routesAreUniformOverTheLiveBranchesAtEverySite() {
        try (TinyModel model = new TinyModel(8, 4, 3, 1); NDManager m = NDManager.newBaseManager()) {
            DmloraTuner t = tuner("drop-every = 1");
            t.attach(model);
            TrainingHooks hooks = t.hooks();
            List<MixLoraAdapter> sites = t.adapterList();
            for (int live : new int[] {8, 4}) {
                long[][] down = new long[sites.size()][live];
                long[][] up = new long[sites.size()][live];
                for (long s = 0; s < 4000; s++) {
                    hooks.beforeForward(step("main", 0, s, m));
                    for (int i = 0; i < sites.size(); i++) {
                        down[i][sites.get(i).routedDown()]++;
                        up[i][sites.get(i).routedUp()]++;
                    }
                }
                double critical = live == 8 ? ChiSquare.CRITICAL_7 : ChiSquare.CRITICAL_3;
                for (int i = 0; i < sites.size(); i++) {
                    assertThat(ChiSquare.uniform(down[i])).as("site %d down %s", i, Arrays.toString(down[i])).isLessThan(critical);
                    assertThat(ChiSquare.uniform(up[i])).as("site %d up %s", i, Arrays.toString(up[i])).isLessThan(critical);
                }
                hooks.onEpochStart("main", 1); // 8 -> 4: routes stay within the survivors
            }
        }
    }

    @Test
    void sitesAndFactorsDrawIndependently() {
        try (TinyModel model = new TinyModel(8, 4, 3, 1); NDManager m = NDManager.newBaseManager()) {
            DmloraTuner t = tuner("");
            t.attach(model);
            List<MixLoraAdapter> sites = t.adapterList();
            long[][] siteVsSite = new long[8][8];
            long[][] downVsUp = new long[8][8];
            long[][] farSites = new long[8][8];
            for (long s = 0; s < 4000; s++) {
                t.hooks().beforeForward(step("main", 0, s, m));
                siteVsSite[sites.get(0).routedDown()][sites.get(1).routedDown()]++;
                downVsUp[sites.get(2).routedDown()][sites.get(2).routedUp()]++;
                farSites[sites.get(0).routedUp()][sites.get(7).routedUp()]++;
            }
            assertThat(ChiSquare.independence(siteVsSite)).as("q vs v of block 0").isLessThan(ChiSquare.CRITICAL_49);
            assertThat(ChiSquare.independence(downVsUp)).as("A vs B of one site").isLessThan(ChiSquare.CRITICAL_49);
            assertThat(ChiSquare.independence(farSites)).as("block 0 vs block 3").isLessThan(ChiSquare.CRITICAL_49);
        }
    }

    @Test
    void stepRoutingSharesOneDrawAcrossSites() {
        try (TinyModel model = new TinyModel(8, 4, 3, 1); NDManager m = NDManager.newBaseManager()) {
            DmloraTuner t = tuner("routing = step");
            t.attach(model);
            Set<Integer> seen = new HashSet<>();
            for (long s = 0; s < 50; s++) {
                t.hooks().beforeForward(step("main", 0, s, m));
                MixLoraAdapter first = t.adapterList().get(0);
                assertThat(t.adapterList()).allMatch(a -> a.routedDown() == first.routedDown() && a.routedUp() == first.routedUp());
                seen.add(first.routedDown());
            }
            assertThat(seen.size()).isGreaterThan(4);
        }
    }

    @Test
    void idleParametersAreExactlyTheUnroutedBranches() {
        try (TinyModel model = new TinyModel(8, 2, 3, 1); NDManager m = NDManager.newBaseManager()) {
            DmloraTuner t = tuner("branches = 4");
            t.attach(model);
            StepContext step = step("main", 0, 3, m);
            t.hooks().beforeForward(step);
            Set<Parameter> idle = t.hooks().idleParameters(step);
            assertThat(idle).hasSize(4 * 6);
            for (MixLoraAdapter a : t.adapterList()) {
                assertThat(idle).doesNotContain(a.downBranches().get(a.routedDown()), a.upBranches().get(a.routedUp()));
            }
            assertThat(t.hooks().idleParameters(step(DmloraTuner.SCALE_STAGE, 0, 0, m))).isEmpty();
        }
    }

    /** Routes and survivors of a short run: same seed, same everything; another seed, other survivors. */
    private static List<String> trace(long seed) {
        try (TinyModel model = new TinyModel(8, 4, 3, 1); NDManager m = NDManager.newBaseManager()) {
            DmloraTuner t = tuner("drop-every = 1", seed);
            t.attach(model);
            List<String> trace = new ArrayList<>();
            for (int epoch = 0; epoch < 3; epoch++) {
                t.hooks().onEpochStart("main", epoch);
                for (MixLoraAdapter a : t.adapterList()) {
                    trace.add(a.downBranches().stream().map(Parameter::getName).toList() + " "
                            + a.upBranches().stream().map(Parameter::getName).toList());
                }
                for (long s = 0; s < 20; s++) {
                    t.hooks().beforeForward(step("main", epoch, epoch * 20 + s, m));
                    t.adapterList().forEach(a -> trace.add(a.routedDown() + "," + a.routedUp()));
                }
            }
            return trace;
        }
    }

    @Test
    void sameSeedSameRoutesAndSurvivors() {
        List<String> first = trace(42);
        assertThat(trace(42)).isEqualTo(first);
        assertThat(trace(43)).isNotEqualTo(first);
    }

    @Test
    void theScaleStageFreezesBranchesAndHeadAndAddsOneScalePerSite() {
        for (boolean head : new boolean[] {false, true}) {
            try (TinyModel model = new TinyModel(8, 2, 3, 1)) {
                DmloraTuner t = tuner("scale-train-head = " + head);
                t.attach(model);
                TrainingPlan plan = t.plan(TrainingPlan.of(MAIN));
                assertThat(plan.stages()).hasSize(2);
                TrainingStage scales = plan.stages().get(1);
                assertThat(scales).isEqualTo(new TrainingStage("scales", 10, 1e-2, 0, 0));
                t.hooks().onStageStart(MAIN, model);
                t.hooks().onStageStart(scales, model);
                for (MixLoraAdapter a : t.adapterList()) {
                    assertThat(a.learnedScale().getShape()).isEqualTo(new Shape(1));
                    assertThat(a.learnedScale().requiresGradient()).isTrue();
                    assertThat(a.downBranches()).noneMatch(Parameter::requiresGradient);
                    assertThat(a.upBranches()).noneMatch(Parameter::requiresGradient);
                }
                assertThat(model.headParameters().values()).allMatch(p -> p.requiresGradient() == head);
            }
        }
    }

    /** max |training logits - eval logits| in the scale stage, with non-zero branches. */
    private static float scaleStageTrainingVsEval(String overrides) {
        try (TinyModel model = new TinyModel(8, 1, 3, 1); NDManager m = NDManager.newBaseManager()) {
            DmloraTuner t = tuner(overrides);
            t.attach(model);
            for (MixLoraAdapter a : t.adapterList()) {
                a.upBranches().forEach(p -> p.getArray().addi(m.randomNormal(0f, 0.5f, p.getShape(), p.getArray().getDataType())));
            }
            NDArray x = m.randomNormal(new Shape(2, 3, 8));
            NDArray eval = model.logits(x, false);
            t.hooks().onStageStart(t.plan(TrainingPlan.of(MAIN)).stages().get(1), model);
            t.hooks().beforeForward(step(DmloraTuner.SCALE_STAGE, 0, 0, m));
            return model.logits(x, true).sub(eval).abs().max().getFloat();
        }
    }

    @Test
    void theScaleStageUsesAveragedBranchesUnlessAskedToRoute() {
        assertThat(scaleStageTrainingVsEval("branches = 4")).isLessThan(1e-5f);
        assertThat(scaleStageTrainingVsEval("branches = 4, scale-routing = random")).isGreaterThan(1e-3f);
    }

    @Test
    void withoutTheScaleStageThePlanIsUnchanged() {
        DmloraTuner t = tuner("scale-stage = false");
        try (TinyModel model = new TinyModel(8, 1, 3, 1)) {
            t.attach(model);
            assertThat(t.plan(TrainingPlan.of(MAIN)).stages()).containsExactly(MAIN);
            assertThat(t.notes()).anySatisfy(n -> assertThat(n).contains("8x8 from epoch 1").doesNotContain("4x4"));
        }
    }

    @Test
    void analysisReportsTheScheduleAndTheScales() {
        try (TinyModel model = new TinyModel(8, 1, 3, 1)) {
            DmloraTuner t = tuner("drop-every = 1, scale = 10");
            t.attach(model);
            t.hooks().onEpochStart("main", 0);
            t.hooks().onEpochStart("main", 1);
            @SuppressWarnings("unchecked")
            Map<String, Object> a = (Map<String, Object>) t.analysis(model).get("dmlora");
            assertThat(a).containsEntry("scheme", "E").containsEntry("inference_parameters", 2L * 8 * 16);
            assertThat((List<?>) a.get("live_branches")).hasSize(2);
            assertThat(a.get("scales")).isEqualTo(Map.of("blocks.0.attn.qkv:q", 10.0, "blocks.0.attn.qkv:v", 10.0));
        }
    }
}
