package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.backend.Activation;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.data.Synthetic;
import dev.sprout.linalg.SymmetricEigen;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.Adam;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fast splitting: the matrix-free splitting operator (R0 c), lockstep Lanczos against dense eigen-solves (R0 d),
 * energy-aware selection, and the method's plan against exact eigen-solves of explicitly formed S_i.
 *
 * <p>The reference matrices are formed here from {@link SiteProbe}'s raw quantities (u, z, g, c) with
 * {@link Activation#eval} for sigma'', by explicit sums over samples, independently of the operator's code.
 */
class FastSplittingTest {

    // ------------------------------------------------------------------------------------------ networks and data

    private static Sequential tanhMlp(Rng r) {
        return new Sequential(new Linear(6, 5, true, r, DType.F64), Act.tanh(), new Linear(5, 4, true, r, DType.F64),
                Act.tanh(), new Linear(4, 3, true, r, DType.F64));
    }

    private static Sequential softplusMlp(Rng r) {
        return new Sequential(new Linear(7, 5, true, r, DType.F64), new Act(Activation.SOFTPLUS, 2.0),
                new Linear(5, 3, true, r, DType.F64));
    }

    /** conv -> BN -> relu -> pool -> conv -> BN -> relu -> flatten -> linear, BN with non-trivial statistics. */
    private static Sequential cnn(Rng r) {
        Sequential net = new Sequential(new Conv2d(2, 3, 3, 1, 1, true, r, DType.F64), new BatchNorm(3, true, 0.1, 1e-5, DType.F64),
                Act.relu(), Pool2d.max(2), new Conv2d(3, 4, 3, 1, 1, false, r, DType.F64),
                new BatchNorm(4, true, 0.1, 1e-5, DType.F64), Act.relu(), new Flatten(), new Linear(4 * 4 * 4, 3, true, r, DType.F64));
        net.train(true);
        net.forward(Tensor.randn(r, DType.F64, 2.0, 6, 2, 8, 8));
        for (int i : new int[] {1, 5}) {
            BatchNorm bn = (BatchNorm) net.get(i);
            Tensor g = bn.parameter("weight"), b = bn.parameter("bias");
            for (int c = 0; c < bn.features(); c++) {
                g.set(0.5 + r.uniform(), c);
                b.set(0.3 * r.normal(), c);
            }
        }
        net.train(false);
        return net;
    }

    private static int[] labels(Rng r, int n, int classes) {
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return y;
    }

    /** Probes of a site on two batches of unequal size (so the sample weighting matters). */
    private static List<SiteProbe> probes(Site site, Rng r, int[] inputShape, int... batchSizes) {
        List<SiteProbe> out = new ArrayList<>();
        for (int n : batchSizes) {
            int[] dims = new int[inputShape.length + 1];
            dims[0] = n;
            System.arraycopy(inputShape, 0, dims, 1, inputShape.length);
            Tensor x = Tensor.randn(r, DType.F64, 1.0, dims);
            int[] y = labels(r, n, 3);
            out.add(SiteProbe.run(site, x, o -> Losses.crossEntropy(o, y)));
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ references

    /** The sigma'' the splitting matrices use (softplus surrogate for ReLU), from the scalar reference. */
    private static double sigma2(Act act, double z, double surrogateBeta) {
        return act.function() == Activation.RELU ? Activation.SOFTPLUS.eval(z, 2, surrogateBeta)
                : act.function().eval(z, 2, act.beta());
    }

    /** Per-row weights a[m, i] (times the batch weight n_b / N) of every batch, as double arrays. */
    private static List<double[]> weights(Site site, List<SiteProbe> probes, double beta) {
        int total = 0;
        for (SiteProbe p : probes) {
            total += p.samples();
        }
        List<double[]> out = new ArrayList<>();
        for (SiteProbe p : probes) {
            double[] z = p.z().toDoubleArray(), g = p.g().toDoubleArray(), c = p.c();
            int cn = c.length;
            double w = (double) p.samples() / total;
            double[] a = new double[z.length];
            for (int k = 0; k < z.length; k++) {
                int i = k % cn;
                a[k] = w * g[k] * sigma2(site.activation(), z[k], beta) * c[i] * c[i];
            }
            out.add(a);
        }
        return out;
    }

    /** Explicit S_i = sum_b (n_b/N) sum_m a[m,i] u_m u_m^T, as C row-major D x D matrices. */
    private static double[][] explicit(Site site, List<SiteProbe> probes, double beta) {
        int c = site.neurons(), d = site.fanIn();
        double[][] s = new double[c][d * d];
        List<double[]> as = weights(site, probes, beta);
        for (int b = 0; b < probes.size(); b++) {
            double[] u = probes.get(b).u().toDoubleArray(), a = as.get(b);
            int m = probes.get(b).rows();
            for (int r = 0; r < m; r++) {
                for (int i = 0; i < c; i++) {
                    double w = a[r * c + i];
                    for (int p = 0; p < d; p++) {
                        double wp = w * u[r * d + p];
                        for (int q = 0; q < d; q++) {
                            s[i][p * d + q] += wp * u[r * d + q];
                        }
                    }
                }
            }
        }
        return s;
    }

    /** sum_b sum_m |a[m,i]| |u_m[p]| |u_m . v_i|: the scale of the rounding errors of (S_i v_i)[p]. */
    private static double[][] absScale(Site site, List<SiteProbe> probes, double beta, double[] v) {
        int c = site.neurons(), d = site.fanIn();
        double[][] out = new double[c][d];
        List<double[]> as = weights(site, probes, beta);
        for (int b = 0; b < probes.size(); b++) {
            double[] u = probes.get(b).u().toDoubleArray(), a = as.get(b);
            for (int r = 0; r < probes.get(b).rows(); r++) {
                for (int i = 0; i < c; i++) {
                    double dot = 0;
                    for (int p = 0; p < d; p++) {
                        dot += Math.abs(u[r * d + p] * v[i * d + p]);
                    }
                    for (int p = 0; p < d; p++) {
                        out[i][p] += Math.abs(a[r * c + i]) * Math.abs(u[r * d + p]) * dot;
                    }
                }
            }
        }
        return out;
    }

    private static double[] randomDirections(Rng r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.normal();
        }
        return v;
    }

    private static double frobenius(double[] m) {
        double s = 0;
        for (double x : m) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    private static double dot(double[] a, int aOff, double[] b, int bOff, int n, int bStride) {
        double s = 0;
        for (int j = 0; j < n; j++) {
            s += a[aOff + j] * b[bOff + j * bStride];
        }
        return s;
    }

    // ------------------------------------------------------------------------------------------ R0 (c)

    /** HVP product == explicit S_i @ v == direct formula, for every site of the network and every product. */
    private static void checkProducts(Sequential net, int[] inputShape, long seed) {
        Rng r = new Rng(seed);
        for (Site site : Site.find(net)) {
            double beta = SplittingOperator.DEFAULT_SURROGATE_BETA;
            List<SiteProbe> probes = probes(site, r, inputShape, 7, 4);
            int c = site.neurons(), d = site.fanIn();
            double[][] s = explicit(site, probes, beta);
            double[] v = randomDirections(r, c * d);
            double[][] scale = absScale(site, probes, beta, v);
            long rows = probes.stream().mapToLong(SiteProbe::rows).sum();
            double tol = Tol.f64((int) rows + d);
            for (SplittingOperator.Product prod : SplittingOperator.Product.values()) {
                SplittingOperator op = SplittingOperator.of(site, probes, beta, prod);
                assertEquals(c, op.count());
                assertEquals(d, op.dim());
                double[] got = op.apply(Tensor.of(v, c, d)).toDoubleArray();
                double[] viaArrays = new double[c * d];
                op.apply(v, viaArrays);
                assertArrayEquals(got, viaArrays, 0.0, "array and tensor entry points agree");
                for (int i = 0; i < c; i++) {
                    for (int p = 0; p < d; p++) {
                        double want = dot(s[i], p * d, v, i * d, d, 1);
                        assertEquals(want, got[i * d + p], tol * scale[i][p] + Double.MIN_NORMAL,
                                prod + " " + site + " neuron " + i + " component " + p);
                    }
                }
                assertEquals(2, op.applications(), prod + " counts its applications");
            }
            assertTrue(frobenius(s[0]) > 0, site + ": the test must see a non-zero S");
        }
    }

    @Test
    void hvpEqualsExplicitAndDirectOnATanhMlp() {
        checkProducts(tanhMlp(new Rng(11)), new int[] {6}, 12);
    }

    @Test
    void hvpEqualsExplicitAndDirectOnASoftplusMlp() {
        checkProducts(softplusMlp(new Rng(13)), new int[] {7}, 14);
    }

    @Test
    void hvpEqualsExplicitAndDirectOnACnnWithBatchNormAndTheReluSurrogate() {
        checkProducts(cnn(new Rng(15)), new int[] {2, 8, 8}, 16);
    }

    @Test
    void theOperatorRefusesMisshapenDirections() {
        Sequential net = tanhMlp(new Rng(17));
        Site site = Site.find(net).get(0);
        SplittingOperator op = SplittingOperator.of(site, probes(site, new Rng(18), new int[] {6}, 5), 3.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> op.apply(Tensor.zeros(DType.F64, 5, 5)));
        assertTrue(e.getMessage().contains("[5, 6]"), e.getMessage());
    }

    // ------------------------------------------------------------------------------------------ R0 (d): Lanczos

    /** Dense reference: all eigenpairs of each explicit S_i. */
    private record Dense(double[] w, double[] v) {
    }

    private static Dense dense(double[] s, int d) {
        double[] w = new double[d], v = new double[d * d];
        SymmetricEigen.full(d, s, 0, w, 0, v, 0);
        return new Dense(w, v);
    }

    private static double[] matVec(double[] s, double[] x, int d) {
        double[] y = new double[d];
        for (int p = 0; p < d; p++) {
            y[p] = dot(s, p * d, x, 0, d, 1);
        }
        return y;
    }

    private static double residual(double[] s, double[] x, double lambda, int d) {
        double[] y = matVec(s, x, d);
        double r = 0;
        for (int p = 0; p < d; p++) {
            r += (y[p] - lambda * x[p]) * (y[p] - lambda * x[p]);
        }
        return Math.sqrt(r);
    }

    /**
     * Checks the Lanczos extremes of every neuron against the dense eigenpairs: eigenvalues within
     * {@code valueTol * ||S_i||_F}, v_min along the dense eigenvector within {@code vectorTol} (1 - |cos|), unit
     * norm, and the residual estimate against the true residual.
     */
    private static void checkAgainstDense(double[][] s, int d, Lanczos.Result res, double valueTol, double vectorTol,
                                          double residualTol, String what) {
        for (int i = 0; i < s.length; i++) {
            double norm = Math.max(frobenius(s[i]), Double.MIN_NORMAL);
            Dense e = dense(s[i], d);
            assertEquals(e.w()[0], res.lambdaMin()[i], valueTol * norm, what + " neuron " + i + " lambda_min");
            assertEquals(e.w()[d - 1], res.lambdaMax()[i], valueTol * norm, what + " neuron " + i + " lambda_max");
            double[] vmin = res.vMin()[i];
            assertEquals(1.0, Math.sqrt(dot(vmin, 0, vmin, 0, d, 1)), Tol.f64(d), what + ": unit Ritz vector");
            double gap = e.w()[1] - e.w()[0];
            if (gap > 1e-3 * norm) { // a well separated lambda_min has a well defined eigenvector
                double cos = Math.abs(dot(vmin, 0, e.v(), 0, d, d));
                assertEquals(1.0, cos, vectorTol, what + " neuron " + i + ": v_min along the dense eigenvector (up to sign)");
            }
            double rTrue = residual(s[i], vmin, res.lambdaMin()[i], d);
            assertTrue(rTrue <= residualTol * norm, what + " neuron " + i + ": residual " + rTrue + " vs ||S|| " + norm);
            assertEquals(rTrue, res.residualMin()[i], residualTol * norm, what + " neuron " + i + ": residual estimate");
            double rMax = residual(s[i], res.vMax()[i], res.lambdaMax()[i], d);
            assertEquals(rMax, res.residualMax()[i], residualTol * norm, what + " neuron " + i + ": residual estimate (max)");
        }
    }

    /** D <= 30 and k = D: Lanczos on the matrix-free operator gives the dense extremes to f64 precision. */
    @Test
    void lanczosWithFullStepsMatchesDenseEigenOfTheExplicitMatrices() {
        Object[][] cases = {{tanhMlp(new Rng(21)), new int[] {6}}, {softplusMlp(new Rng(22)), new int[] {7}},
                {cnn(new Rng(23)), new int[] {2, 8, 8}}};
        Rng r = new Rng(24);
        for (Object[] cs : cases) {
            for (Site site : Site.find((Sequential) cs[0])) {
                List<SiteProbe> probes = probes(site, r, (int[]) cs[1], 9, 6);
                int d = site.fanIn();
                assertTrue(d <= Lanczos.DEFAULT_STEPS);
                SplittingOperator op = SplittingOperator.of(site, probes, SplittingOperator.DEFAULT_SURROGATE_BETA);
                Lanczos.Result res = Lanczos.run(op, Lanczos.DEFAULT_STEPS, 25);
                assertTrue(res.applications() <= d, "k = min(D, steps) = D applications at most");
                checkAgainstDense(explicit(site, probes, SplittingOperator.DEFAULT_SURROGATE_BETA), d, res,
                        Tol.DECOMP_F64 * d, Tol.DECOMP_F64 * d, Tol.DECOMP_F64 * d, site.toString());
            }
        }
    }

    /** D = 64 with k = 30: the extremes to a few digits, with a small residual. */
    @Test
    void lanczosWithThirtyStepsOnSixtyFourInputsFindsTheExtremes() {
        Rng r = new Rng(31);
        Sequential net = new Sequential(new Linear(64, 6, true, r, DType.F64), Act.tanh(), new Linear(6, 3, true, r, DType.F64));
        Site site = Site.find(net).get(0);
        List<SiteProbe> probes = probes(site, r, new int[] {64}, 150, 100);
        SplittingOperator op = SplittingOperator.of(site, probes, SplittingOperator.DEFAULT_SURROGATE_BETA);
        Lanczos.Result res = Lanczos.run(op, Lanczos.DEFAULT_STEPS, 32);
        assertEquals(30, res.applications());
        for (int st : res.steps()) {
            assertEquals(30, st);
        }
        checkAgainstDense(explicit(site, probes, SplittingOperator.DEFAULT_SURROGATE_BETA), 64, res,
                Tol.LANCZOS_PARTIAL_VALUE, Tol.LANCZOS_PARTIAL_VECTOR, Tol.LANCZOS_PARTIAL_RESIDUAL, "D=64, k=30");
    }

    /** A block of explicit symmetric matrices as a {@link Lanczos.BlockOperator}. */
    private static Lanczos.BlockOperator block(double[][] m, int d) {
        return new Lanczos.BlockOperator() {
            @Override
            public int count() {
                return m.length;
            }

            @Override
            public int dim() {
                return d;
            }

            @Override
            public void apply(double[] in, double[] out) {
                for (int i = 0; i < m.length; i++) {
                    for (int p = 0; p < d; p++) {
                        out[i * d + p] = dot(m[i], p * d, in, i * d, d, 1);
                    }
                }
            }
        };
    }

    /**
     * Breakdown (zero matrix, a multiple of the identity, low rank: invariant Krylov spaces found early), a
     * generic matrix, D < steps, and determinism in the seed.
     */
    @Test
    void lanczosHandlesBreakdownAndSmallDimensions() {
        int d = 7;
        Rng r = new Rng(41);
        double[] zero = new double[d * d], twoI = new double[d * d], lowRank = new double[d * d], generic = new double[d * d];
        double[] a = randomDirections(r, d), b = randomDirections(r, d);
        for (int p = 0; p < d; p++) {
            twoI[p * d + p] = 2;
            for (int q = 0; q < d; q++) {
                lowRank[p * d + q] = a[p] * a[q] - 0.5 * b[p] * b[q];
            }
        }
        double[] x = randomDirections(r, d * d);
        for (int p = 0; p < d; p++) {
            for (int q = 0; q < d; q++) {
                generic[p * d + q] = x[p * d + q] + x[q * d + p];
            }
        }
        double[][] m = {zero, twoI, lowRank, generic};
        Lanczos.Result res = Lanczos.run(block(m, d), 100, 42);
        assertEquals(1, res.steps()[0], "zero operator: breakdown at once");
        assertEquals(1, res.steps()[1], "multiple of I: breakdown after one step");
        assertTrue(res.steps()[2] <= 3, "rank 2: Krylov dimension at most 3, got " + res.steps()[2]);
        assertEquals(d, res.steps()[3]);
        assertEquals(d, res.applications(), "D < steps: k = D");
        assertEquals(0.0, res.lambdaMin()[0], 0.0);
        assertEquals(0.0, res.lambdaMax()[0], 0.0);
        assertEquals(2.0, res.lambdaMin()[1], Tol.F64);
        assertEquals(2.0, res.lambdaMax()[1], Tol.F64);
        checkAgainstDense(new double[][] {lowRank, generic}, d,
                new Lanczos.Result(2, d, slice(res.lambdaMin()), slice(res.lambdaMax()), slice(res.vMin()), slice(res.vMax()),
                        slice(res.residualMin()), slice(res.residualMax()), new int[] {res.steps()[2], res.steps()[3]},
                        res.applications()),
                Tol.DECOMP_F64 * d, Tol.DECOMP_F64 * d, Tol.DECOMP_F64 * d, "synthetic");
        // deterministic in the seed; another seed gives the same values
        Lanczos.Result again = Lanczos.run(block(m, d), 100, 42);
        assertArrayEquals(res.lambdaMin(), again.lambdaMin(), 0.0);
        assertArrayEquals(res.vMin()[3], again.vMin()[3], 0.0);
        Lanczos.Result other = Lanczos.run(block(m, d), 100, 43);
        assertArrayEquals(res.lambdaMin(), other.lambdaMin(), Tol.DECOMP_F64 * d * frobenius(generic));
        assertThrows(IllegalArgumentException.class, () -> Lanczos.run(block(m, d), 0, 1));
    }

    private static double[] slice(double[] x) {
        return new double[] {x[2], x[3]};
    }

    private static double[][] slice(double[][] x) {
        return new double[][] {x[2], x[3]};
    }

    // ------------------------------------------------------------------------------------------ the method

    private static Dataset imageSample(Rng r, int n) {
        Tensor x = Tensor.randn(r, DType.F32, 1.0, n, 2, 8, 8);
        return Dataset.classification("images", x, labels(r, n, 3), 3);
    }

    /** Energy-aware selection: total cost within the budget, only negative scores; and the cost phases recorded. */
    @Test
    void energyAwareSelectionStaysWithinTheBudgetAndTakesOnlyNegativeScores() {
        Rng r = new Rng(51);
        Sequential net = cnn(r);
        Dataset sample = imageSample(r, 24);
        for (double ratio : new double[] {0.1, 0.3, 1.0}) {
            CostMeter meter = new CostMeter();
            GrowthContext ctx = new GrowthContext(net, sample, 10, ratio, new Rng(52), meter);
            FastSplitting fast = FastSplitting.create(Map.of("energy", "true"));
            List<FastSplitting.SiteAnalysis> an = fast.analyse(ctx);
            List<Selection.Candidate> chosen = fast.select(ctx, an);
            double budget = FastSplitting.energyBudget(ratio, an);
            double used = 0;
            for (Selection.Candidate c : chosen) {
                assertTrue(c.score() < 0, "only negative scores: " + c);
                used += c.cost();
            }
            assertTrue(used <= budget, "cost " + used + " within budget " + budget);
            for (Selection.Candidate c : fast.candidates(an)) {
                assertTrue(c.cost() > 0);
            }
            if (ratio < 0.5) {
                assertTrue(chosen.size() < fast.candidates(an).size(), "a small budget binds");
            }
            // the plan is the selection, each split along its unit v_min, predicted change = score
            Plan plan = fast.propose(new GrowthContext(net, sample, 10, ratio, new Rng(52), new CostMeter()));
            assertEquals(chosen.size(), plan.splits().size());
            for (Plan.Split s : plan.splits()) {
                assertTrue(s.predictedChange() < 0);
                assertEquals(FastSplitting.DEFAULT_EPS, s.eps(), 0.0);
                assertEquals(1.0, Math.sqrt(dot(s.delta1(), 0, s.delta1(), 0, s.delta1().length, 1)), Tol.f64(s.delta1().length));
            }
            assertTrue(meter.seconds("statistics") > 0 && meter.seconds("eigen") > 0, meter.seconds().toString());
            assertTrue(meter.flops() > 0 && meter.peakBytes() > 0);
        }
        // the cost of one more neuron: own row over the output positions, plus the consumer's share
        List<FastSplitting.SiteAnalysis> an = FastSplitting.create(Map.of())
                .analyse(new GrowthContext(net, sample, 24, 0.5, new Rng(53), new CostMeter()));
        assertEquals(2L * 18 * 64 + 2L * 9 * 4 * 16, an.get(0).costPerNeuron());
        assertEquals(2L * 27 * 16 + 2L * 16 * 3, an.get(1).costPerNeuron());
    }

    /** Lanczos results with given lambda_min per neuron (the vectors are not used by selection). */
    private static Lanczos.Result values(double... lambdaMin) {
        int n = lambdaMin.length;
        return new Lanczos.Result(n, 1, lambdaMin.clone(), lambdaMin.clone(), new double[n][1], new double[n][1], new double[n],
                new double[n], new int[n], 1);
    }

    /** Scores of both signs: the energy rule never takes a non-negative score, whatever the budget. */
    @Test
    void energyAwareSelectionNeverTakesNonNegativeScores() {
        List<FastSplitting.SiteAnalysis> an = List.of(
                new FastSplitting.SiteAnalysis("0", 4, 1, 10, values(-4, 0.0, 3, -1), 1, 1),
                new FastSplitting.SiteAnalysis("2", 3, 1, 2, values(-1, 2, -0.5), 1, 1));
        FastSplitting fast = FastSplitting.create(Map.of("energy", "true", "eps", "1"));
        Dataset sample = imageSample(new Rng(54), 2);
        for (double ratio : new double[] {0.05, 0.2, 0.5, 1.0}) {
            GrowthContext ctx = new GrowthContext(new Sequential(), sample, 1, ratio, new Rng(1), new CostMeter());
            double budget = FastSplitting.energyBudget(ratio, an);
            assertEquals(ratio * (4 * 10 + 3 * 2), budget, Tol.F64 * budget);
            List<Selection.Candidate> chosen = fast.select(ctx, an);
            double used = 0;
            for (Selection.Candidate c : chosen) {
                assertTrue(c.score() < 0, "ratio " + ratio + ": " + c);
                used += c.cost();
            }
            assertTrue(used <= budget, "ratio " + ratio + ": cost " + used + " > budget " + budget);
            if (ratio == 1.0) {
                assertEquals(4, chosen.size(), "a large budget takes every negative score and nothing else: " + chosen);
            }
        }
        // ratio 0.2: budget 9.2; by decrease per cost: 2:0 (-0.25/unit), 0:0 (-0.2), 2:2 (-0.125), 0:3 (-0.05)
        GrowthContext ctx = new GrowthContext(new Sequential(), sample, 1, 0.2, new Rng(1), new CostMeter());
        assertEquals(List.of("2:0", "2:2"), fast.select(ctx, an).stream().map(c -> c.site() + ":" + c.neuron()).toList());
        // and the top-k rule also refuses non-negative scores
        FastSplitting topk = FastSplitting.create(Map.of("eps", "1"));
        GrowthContext all = new GrowthContext(tanhMlp(new Rng(55)), sample, 1, 1.0, new Rng(1), new CostMeter());
        assertEquals(4, topk.select(all, an).size());
    }

    /** An f32 network (datasets are f32, so no conversion): the same splitting indices as its f64 twin. */
    @Test
    void anF32NetworkGivesTheIndicesOfItsF64Twin() {
        Sequential n64 = cnn(new Rng(71));
        Rng r = new Rng(71);
        Sequential n32 = new Sequential(new Conv2d(2, 3, 3, 1, 1, true, r, DType.F32), new BatchNorm(3, true, 0.1, 1e-5, DType.F32),
                Act.relu(), Pool2d.max(2), new Conv2d(3, 4, 3, 1, 1, false, r, DType.F32),
                new BatchNorm(4, true, 0.1, 1e-5, DType.F32), Act.relu(), new Flatten(), new Linear(4 * 4 * 4, 3, true, r, DType.F32));
        try (Autograd.Scope noGrad = Autograd.noGrad()) {
            for (int i = 0; i < n64.size(); i++) {
                for (var e : n64.get(i).namedParameters().entrySet()) {
                    n32.get(i).parameter(e.getKey()).copy_(e.getValue().to(DType.F32));
                }
                for (var e : n64.get(i).namedBuffers().entrySet()) {
                    n32.get(i).buffer(e.getKey()).copy_(e.getValue().to(DType.F32));
                }
            }
        }
        n32.train(false);
        Dataset sample = imageSample(new Rng(72), 16);
        FastSplitting fast = new FastSplitting();
        List<FastSplitting.SiteAnalysis> a64 = fast.analyse(new GrowthContext(n64, sample, 8, 0.5, new Rng(73), new CostMeter()));
        List<FastSplitting.SiteAnalysis> a32 = fast.analyse(new GrowthContext(n32, sample, 8, 0.5, new Rng(73), new CostMeter()));
        for (int s = 0; s < a64.size(); s++) {
            double[] w64 = a64.get(s).eigen().lambdaMin(), w32 = a32.get(s).eigen().lambdaMin();
            double scale = 0;
            for (int i = 0; i < w64.length; i++) {
                scale = Math.max(scale, Math.max(Math.abs(w64[i]), Math.abs(a64.get(s).eigen().lambdaMax()[i])));
            }
            assertTrue(scale > 0);
            assertArrayEquals(w64, w32, Tol.LANCZOS_F32 * scale, "site " + a64.get(s).site());
        }
        Plan plan = fast.propose(new GrowthContext(n32, sample, 8, 0.5, new Rng(73), new CostMeter()));
        assertFalse(plan.splits().isEmpty());
    }

    @Test
    void optionsAreParsedAndUnknownOnesRefused() {
        FastSplitting f = FastSplitting.create(Map.of("eps", "0.02", "steps", "12", "energy", "true", "surrogate-beta", "5"));
        assertEquals(0.02, f.eps(), 0.0);
        assertEquals(12, f.steps());
        assertTrue(f.energy());
        assertEquals(5.0, f.surrogateBeta(), 0.0);
        assertEquals("fast", f.name());
        FastSplitting d = FastSplitting.create(Map.of());
        assertEquals(FastSplitting.DEFAULT_EPS, d.eps(), 0.0);
        assertEquals(30, d.steps());
        assertFalse(d.energy());
        assertEquals(3.0, d.surrogateBeta(), 0.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FastSplitting.create(Map.of("epsilon", "1")));
        assertTrue(e.getMessage().contains("unknown option 'epsilon'") && e.getMessage().contains("surrogate-beta"), e.getMessage());
        assertEquals(SplittingOperator.Product.CACHED_HVP, d.product());
        assertEquals(SplittingOperator.Product.DIRECT, FastSplitting.create(Map.of("product", "direct")).product());
        assertEquals(SplittingOperator.Product.HVP, FastSplitting.create(Map.of("product", "hvp")).product());
        assertThrows(IllegalArgumentException.class, () -> FastSplitting.create(Map.of("product", "dense")));
        assertThrows(IllegalArgumentException.class, () -> FastSplitting.create(Map.of("energy", "yes")));
        assertThrows(IllegalArgumentException.class, () -> FastSplitting.create(Map.of("steps", "0")));
        assertThrows(IllegalArgumentException.class, () -> FastSplitting.create(Map.of("steps", "3.5")));
        assertThrows(IllegalArgumentException.class, () -> FastSplitting.create(Map.of("eps", "-1")));
        assertThrows(IllegalArgumentException.class, () -> FastSplitting.create(Map.of("surrogate-beta", "0")));
    }

    /**
     * On a trained toy network, fast splitting picks the same neurons, in the same order, with the same directions
     * (up to sign) as exact eigen-solves of the explicitly formed S_i (site 0 has D = 40 > 30, so Lanczos runs 30
     * steps there; site 1 has D = 8, so it is exact).
     */
    @Test
    void fastPlanOnATrainedToyNetworkSelectsWhatExactEigenSolvesSelect() {
        Rng r = new Rng(61);
        Dataset.Split split = Synthetic.clusters(4, 40, 600, 10, 1.0, 1.0, 0.1, 62).train().split(0.25, new Rng(63));
        Sequential net = new Sequential(new Linear(40, 8, true, r, DType.F64), Act.tanh(), new Linear(8, 6, true, r, DType.F64),
                Act.tanh(), new Linear(6, 4, true, r, DType.F64));
        Adam opt = new Adam(net, 0.01);
        for (int epoch = 0; epoch < 6; epoch++) {
            for (Batches.Batch b : Batches.epoch(split.train(), 50, 64, epoch, true, false)) {
                opt.zeroGrad();
                Losses.crossEntropy(net.forward(b.inputs().to(DType.F64)), b.labels()).backward();
                opt.step();
            }
        }
        GrowthContext ctx = new GrowthContext(net, split.validation(), 64, 0.75, new Rng(65), new CostMeter());
        Plan plan = new FastSplitting().propose(ctx);

        // reference: explicit S_i from the probes of the same batches, dense eigen-solves, top-k of negative scores
        double eps = FastSplitting.DEFAULT_EPS, beta = SplittingOperator.DEFAULT_SURROGATE_BETA;
        record Ref(String site, int neuron, double score, double[] v) {
        }
        List<Ref> refs = new ArrayList<>();
        for (Site site : Site.find(net)) {
            List<SiteProbe> probes = new ArrayList<>();
            for (Batches.Batch b : ctx.batches()) {
                probes.add(SiteProbe.run(site, b.inputs().to(DType.F64), o -> Losses.crossEntropy(o, b.labels())));
            }
            double[][] s = explicit(site, probes, beta);
            int d = site.fanIn();
            for (int i = 0; i < s.length; i++) {
                Dense e = dense(s[i], d);
                double[] v = new double[d];
                for (int p = 0; p < d; p++) {
                    v[p] = e.v()[p * d];
                }
                refs.add(new Ref(site.name(), i, eps * eps / 2 * e.w()[0], v));
            }
        }
        List<Ref> negative = new ArrayList<>(refs.stream().filter(x -> x.score() < 0).toList());
        negative.sort(Comparator.comparingDouble(Ref::score));
        int k = ctx.budget();
        assertTrue(negative.size() > k, "the test needs more negative candidates (" + negative.size() + ") than the budget " + k);
        List<Ref> want = negative.subList(0, k);
        assertTrue(want.stream().map(Ref::site).distinct().count() == 2, "both sites are chosen from: " + want);

        assertEquals(k, plan.splits().size());
        for (int j = 0; j < k; j++) {
            Plan.Split got = plan.splits().get(j);
            Ref ref = want.get(j);
            assertEquals(ref.site() + ":" + ref.neuron(), got.site() + ":" + got.neuron(), "selection " + j);
            assertEquals(ref.score(), got.predictedChange(), Tol.LANCZOS_PARTIAL_VALUE * Math.abs(ref.score()), "score " + j);
            double cos = Math.abs(dot(ref.v(), 0, got.delta1(), 0, ref.v().length, 1));
            assertEquals(1.0, cos, Tol.LANCZOS_PARTIAL_VECTOR, "direction " + j + " (up to sign)");
        }
        // a neuron is split at most once; the scores separate the chosen from the rest
        Set<String> seen = new HashSet<>();
        for (Plan.Split s : plan.splits()) {
            assertTrue(seen.add(s.site() + ":" + s.neuron()));
        }
        Map<String, Integer> perSite = new HashMap<>();
        plan.splits().forEach(s -> perSite.merge(s.site(), 1, Integer::sum));
        assertEquals(2, perSite.size());
        // the other ways of computing the products give the same plan
        for (String product : new String[] {"hvp", "direct"}) {
            Plan other = FastSplitting.create(Map.of("product", product))
                    .propose(new GrowthContext(net, split.validation(), 64, 0.75, new Rng(65), new CostMeter()));
            assertEquals(plan.splits().size(), other.splits().size());
            for (int j = 0; j < k; j++) {
                Plan.Split a = plan.splits().get(j), b = other.splits().get(j);
                assertEquals(a.site() + ":" + a.neuron(), b.site() + ":" + b.neuron(), product);
                assertEquals(a.predictedChange(), b.predictedChange(), Tol.LANCZOS_PARTIAL_VALUE * Math.abs(a.predictedChange()), product);
            }
        }
    }
}
