package dev.sprout.growth;

import dev.sprout.growth.experiments.ToyRbf;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** R1's runner: its report and its method entries, on hand-made curves (no training). */
class ToyRbfReportTest {

    private static ToyRbf.Result result(long seed, double[] exactLoss, int[] exactNeurons, double[] newLoss) {
        Map<String, ToyRbf.Curve> curves = new LinkedHashMap<>();
        int stalls = 0;
        for (int t = 1; t < exactNeurons.length; t++) {
            stalls += 1 - (exactNeurons[t] - exactNeurons[t - 1]);
        }
        curves.put("exact", new ToyRbf.Curve("exact", exactLoss, exactNeurons, stalls));
        curves.put("random-new", new ToyRbf.Curve("random-new", newLoss, new int[] {1, 2, 3}, 0));
        return new ToyRbf.Result(seed, curves);
    }

    private static List<ToyRbf.Result> results() {
        return List.of(result(1, new double[] {0.5, 0.5, 0.1}, new int[] {1, 1, 2}, new double[] {0.5, 0.2, 0.1}),
                result(2, new double[] {0.5, 0.3, 0.3}, new int[] {1, 2, 3}, new double[] {0.5, 0.4, 0.3}));
    }

    /**
     * The row of round t stands for t + 1 neurons, but a method that stalled (exact splitting at a splitting-stable
     * point) has fewer there: its cell must say how many it really has, or its loss reads as that of a larger
     * network (the previous report put exact's loss of about 2 neurons in the row "8").
     */
    @Test
    void tableShowsHowManyNeuronsAStalledMethodReallyHas() {
        String table = ToyRbf.table(results());
        String[] lines = table.split("\n");
        String round1 = lines[2], round2 = lines[3];
        assertTrue(round1.startsWith("1 "), table);
        assertTrue(round1.contains("[1.5]"), "exact has 1.5 neurons on average after round 1:\n" + table);
        assertTrue(round2.contains("[2.5]"), "exact has 2.5 neurons on average after round 2:\n" + table);
        assertEquals(2, round2.split("\\[").length, "only the method that stalled gets a neuron count:\n" + table);
        assertTrue(lines[lines.length - 1].matches("stalls\\s+1\\s+0\\s*"), table);
    }

    @Test
    void cellsGiveMeanAndSampleStandardDeviation() {
        Map<String, double[]> mean = ToyRbf.meanCurves(results()), sd = ToyRbf.sdCurves(results());
        assertEquals(0.2, mean.get("exact")[2], 1e-12);
        assertEquals(Math.sqrt(0.02), sd.get("exact")[2], 1e-12);
        assertEquals(0.0, sd.get("random-new")[0], 1e-12);
        assertEquals(1.5, ToyRbf.meanNeurons(results()).get("exact")[1], 1e-12);
        String md = ToyRbf.markdown(results());
        assertTrue(md.startsWith("| round | neurons | exact | random-new |\n| --- |"), md);
        assertTrue(md.contains("| 2 | 3 | 0.200000 ± 0.141421 [2.5] | 0.200000 ± 0.141421 |"), md);
    }

    @Test
    void methodEntriesCarryTheirOptions() {
        GrowthMethod exact = ToyRbf.method("exact:eps=0.1");
        assertInstanceOf(ExactSplitting.class, exact);
        assertEquals(0.1, ((ExactSplitting) exact).eps());
        assertInstanceOf(Firefly.class, ToyRbf.method("firefly:k=5"));
        assertThrows(IllegalArgumentException.class, () -> ToyRbf.method("exact:eps"));
        assertThrows(IllegalArgumentException.class, () -> ToyRbf.method("exact:epsilon=0.1"));
        assertThrows(IllegalArgumentException.class, () -> ToyRbf.method("splitting"));
    }

    /** The S2D toy's neuron is theta = (w, b): by default a split moves both (input augmented by a constant 1). */
    @Test
    void splitsMoveWeightAndBiasByDefault() {
        assertTrue(ToyRbf.Options.defaults().biasAsInput());
        assertFalse(ToyRbf.Options.defaults().withBiasAsInput(false).biasAsInput());
        ToyRbf.Options o = ToyRbf.Options.defaults().withSteps(5).withMaxNeurons(2).withMethods(List.of("exact:threshold=0"));
        ToyRbf.Result r = ToyRbf.run(1, o);
        ToyRbf.Curve c = r.curves().get("exact:threshold=0");
        assertEquals(c.neurons()[1], c.finalNeurons().length);
    }

    /** R1 (g): round t of "static" is a fresh (t + 1)-neuron network, trained for (t + 1) x the round's steps. */
    @Test
    void staticBaselineTrainsEachSizeFromScratch() {
        ToyRbf.Options o = ToyRbf.Options.defaults().withSteps(40).withMaxNeurons(3).withMethods(List.of("static"));
        ToyRbf.Result r = ToyRbf.run(2, o);
        ToyRbf.Curve c = r.curves().get("static");
        assertEquals(List.of(1, 2, 3), java.util.Arrays.stream(c.neurons()).boxed().toList());
        assertEquals(3, c.finalNeurons().length);
        assertEquals(0, c.stalls());
        for (double l : c.loss()) {
            assertTrue(Double.isFinite(l) && l > 0, "loss " + l);
        }
        // the same network trained again from the same seed gives the same loss (deterministic), and a different
        // size gives a different network
        ToyRbf.Curve again = ToyRbf.run(2, o).curves().get("static");
        assertEquals(c.loss()[2], again.loss()[2], 0.0);
        assertTrue(c.loss()[1] != c.loss()[2]);
    }
}
