package dev.sprout.growth;

import dev.sprout.growth.experiments.ToyRbf;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spec section 14, R1: the toy RBF regression, 5 seeds, with a budget that fits the test time (fewer Adam steps per
 * round and fewer neurons than {@link ToyRbf#main}'s defaults; the runs are shared by the tests of this class). Splits
 * move the whole neuron {@code theta = (w, b)} (the runner's default).
 */
class ToyRbfTest {
    private static final int SEEDS = 5;
    /** Adam steps per round and the largest student: about 20 s on two shared cores. */
    private static final int STEPS = 300;
    private static final int MAX_NEURONS = 6;

    private static List<ToyRbf.Result> results;

    private static synchronized List<ToyRbf.Result> results() {
        if (results == null) {
            ToyRbf.Options o = ToyRbf.Options.defaults().withSteps(STEPS).withMaxNeurons(MAX_NEURONS)
                    .withMethods(ToyRbf.METHODS);
            List<ToyRbf.Result> out = new ArrayList<>();
            for (int s = 1; s <= SEEDS; s++) {
                out.add(ToyRbf.run(s, o));
            }
            results = out;
            System.out.print("R1 toy RBF (test budget: " + STEPS + " steps per round, mean of " + SEEDS + " seeds)\n"
                    + ToyRbf.table(out) + ToyRbf.finalLosses(out));
        }
        return results;
    }

    private static double meanFinal(String method) {
        return ToyRbf.meanCurves(results()).get(method)[MAX_NEURONS - 1];
    }

    /** Every method starts from the same trained one-neuron network and grows by at most one neuron per round. */
    @Test
    void curvesShareTheirStartAndGrowOneNeuronPerRound() {
        for (ToyRbf.Result r : results()) {
            double start = Double.NaN;
            for (ToyRbf.Curve c : r.curves().values()) {
                assertEquals(MAX_NEURONS, c.loss().length);
                if (Double.isNaN(start)) {
                    start = c.loss()[0];
                }
                assertEquals(start, c.loss()[0], 0.0, "round 0 is the shared one-neuron network");
                assertEquals(1, c.neurons()[0]);
                int stalls = 0;
                for (int t = 1; t < MAX_NEURONS; t++) {
                    int grew = c.neurons()[t] - c.neurons()[t - 1];
                    assertTrue(grew == 0 || grew == 1, c.method() + " grew by " + grew);
                    stalls += 1 - grew;
                    assertTrue(Double.isFinite(c.loss()[t]));
                }
                assertEquals(c.stalls(), stalls);
                if (!c.method().equals("exact")) {
                    assertEquals(0, c.stalls(), c.method() + " always grows");
                }
            }
        }
    }

    /**
     * R1's second prediction (the S3D claim): where exact splitting is splitting stable (every lambda_min >= 0, so it
     * proposes nothing), signed splitting still grows and lowers the loss. Checked at round 1, where both methods
     * start from the same trained one-neuron network: in every seed where exact stalled there, signed grew and ended
     * the round lower (both are then trained for the same steps).
     */
    @Test
    void signedSplittingGrowsWhereExactIsSplittingStable() {
        int stuck = 0;
        for (ToyRbf.Result r : results()) {
            ToyRbf.Curve exact = r.curves().get("exact"), signed = r.curves().get("signed");
            if (exact.neurons()[1] == 1) { // splitting stable at the shared start
                stuck++;
                assertEquals(2, signed.neurons()[1], "seed " + r.seed() + ": signed did not grow");
                assertTrue(signed.loss()[1] < exact.loss()[1], "seed " + r.seed() + ": signed " + signed.loss()[1]
                        + " vs exact " + exact.loss()[1]);
            }
        }
        assertTrue(stuck > 0, "no seed where exact splitting was stable at the start");
    }

    /**
     * R1's main prediction: exact and signed splitting reach a lower loss per neuron than random-direction splitting
     * and new random neurons (here: a lower mean final loss over the seeds).
     */
    @Disabled("R1's prediction does not hold (observed, not weakened; results-summary/r1-table.md). Splits moving"
            + " (w, b), eps 0.01, 1500 Adam steps per round, mean training MSE over seeds 1-5 after 7 growth rounds"
            + " (ToyRbf.main): exact 0.2328 (7.6 neurons: 2 of 35 rounds splitting stable), signed 0.1677,"
            + " random-split 0.2328, random-new 0.000343 (net2net 0.2331, firefly k=5 0.000287). This test's budget"
            + " (300 steps, 6 neurons): exact 0.2374 (4.8 neurons), signed 0.0416, random-split 0.2358, random-new"
            + " 0.00331. Why: the trained one-neuron start sits in a local basin (seeds 2 and 4: one narrow bump,"
            + " loss 0.61 and 0.38 whatever is added by splitting); a split is function preserving and local, so every"
            + " split-type method (exact, random-split, net2net, eps 0.01 to 0.5) ends in that basin at the same loss per"
            + " seed to 3-4 digits, its bumps clustered around the parent's centre, while new neurons (random-new,"
            + " firefly's new candidates) start as wide bumps anywhere and reach the teacher's other bumps.")
    @Test
    void splittingReachesALowerLossPerNeuronThanTheRandomBaselines() {
        Map<String, double[]> mean = ToyRbf.meanCurves(results());
        assertArrayEquals(ToyRbf.METHODS.toArray(), mean.keySet().toArray());
        for (String split : List.of("exact", "signed")) {
            for (String baseline : List.of("random-split", "random-new")) {
                assertTrue(meanFinal(split) < meanFinal(baseline), split + " " + meanFinal(split) + " vs " + baseline + " "
                        + meanFinal(baseline));
            }
        }
    }
}
