package org.peft4j.methods.mosa;

import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.peft4j.api.StepContext;

/**
 * Draws the experts of every mixed side for each forward pass of a step, from the step's random stream only (same
 * run seed, same choices): pass by pass, sides in attach order, one uniform index each ({@link Choice#PER_STEP}: the
 * first pass's draw is reused). Then selects a pass's experts before it runs, masks the used experts' gradients and
 * names the experts no pass used.
 */
final class ExpertRouter {

    private final List<ExpertSide> sides;
    private final Choice choice;
    private int[][] draws = new int[0][];

    ExpertRouter(List<ExpertSide> sides, Choice choice) {
        this.sides = sides.stream().filter(ExpertSide::mixed).toList();
        this.choice = choice;
    }

    /** Draws {@code passes} passes' experts and selects the first pass's. */
    void draw(StepContext step, int passes) {
        sides.forEach(ExpertSide::startStep);
        draws = new int[passes][sides.size()];
        for (int pass = 0; pass < passes; pass++) {
            for (int i = 0; i < sides.size(); i++) {
                ExpertSide side = sides.get(i);
                draws[pass][i] = choice == Choice.PER_STEP && pass > 0 ? draws[0][i] : step.random().nextInt(side.experts());
                side.use(draws[pass][i]);
            }
        }
        select(0);
    }

    /** Selects the experts drawn for {@code pass}. */
    void select(int pass) {
        if (pass >= draws.length) {
            throw new IllegalStateException("pass " + pass + " was not drawn (" + draws.length + " drawn this step)");
        }
        for (int i = 0; i < sides.size(); i++) {
            sides.get(i).select(draws[pass][i]);
        }
    }

    /** After a step's passes: another training pass needs another draw. */
    void deselect() {
        sides.forEach(ExpertSide::deselect);
    }

    void maskGradients() {
        sides.forEach(ExpertSide::maskGradients);
    }

    /** Parameters of the experts no pass of this step used. */
    Set<Parameter> idle() {
        Set<Parameter> idle = new HashSet<>();
        sides.forEach(s -> s.addIdle(idle));
        return idle;
    }

    /** This step's draws, {@code [pass][mixed side]} (a copy). */
    int[][] draws() {
        int[][] copy = new int[draws.length][];
        for (int p = 0; p < draws.length; p++) {
            copy[p] = draws[p].clone();
        }
        return copy;
    }

    /** The mixed sides, in draw order. */
    List<ExpertSide> sides() {
        return new ArrayList<>(sides);
    }
}
