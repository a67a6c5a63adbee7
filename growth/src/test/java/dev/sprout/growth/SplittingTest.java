package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.backend.Activation;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.linalg.SymmetricEigen;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Modules;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import dev.sprout.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongFunction;

import static dev.sprout.growth.GrowthFixtures.mlpData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spec section 14, R0 (b) and (f), for the splitting matrices and the exact and signed splitting methods, on a small
 * f64 tanh MLP and a small f64 CNN with batch norm (evaluation mode); plus the random baselines and the registry.
 */
class SplittingTest {
    /** Steps of the finite-difference convergence study. */
    private static final double[] STEPS = {1e-1, 1e-2, 1e-3};
    /**
     * A positive (symmetric) split's loss is even in eps, so (L(eps) - L(0)) / (eps^2/2) - v^T S v = O(eps^2):
     * each decade of eps must shrink the error at least this much (100 in theory).
     */
    private static final double SECOND_ORDER_DECADE_GAIN = 30;
    /**
     * A signed split's error is O(eps) (the third-order term survives): it must fall at every step and by at least
     * this much over the last decade (10 in theory; at eps = 0.1 higher orders still interfere).
     */
    private static final double FIRST_ORDER_DECADE_GAIN = 5;
    /** Error at the smallest step, relative to the matrix's scale, for the two kinds of split. */
    private static final double SYMMETRIC_FD_REL = 1e-5;
    private static final double SIGNED_FD_REL = 1e-3;
    /**
     * Rounding floor of a finite-difference ratio, in ulps of the loss: an f64 loss difference is exact to a few
     * ulps of the loss, divided by eps^2/2; below that no further convergence can be seen.
     */
    private static final double FD_ROUNDOFF_ULPS = 100;
    /**
     * A whole plan (several splits at eps = 0.01): achieved vs predicted decrease (relative errors O(eps^2) for
     * positive splits, O(eps) for signed ones).
     */
    private static final double PLAN_PREDICTION_REL = 1e-2;
    /** Random unit directions drawn to probe the Rayleigh quotient. */
    private static final int RANDOM_DIRECTIONS = 300;

    // ------------------------------------------------------------------------------------------ models and data

    /** A 4 -> 6 -> 5 -> 3 tanh / softplus MLP in f64; the same seed gives the same network. */
    private static Sequential mlp(long seed) {
        Rng r = new Rng(seed);
        return new Sequential(new Linear(4, 6, true, r, DType.F64), Act.tanh(), new Linear(6, 5, true, r, DType.F64),
                new Act(Activation.SOFTPLUS, 2), new Linear(5, 3, true, r, DType.F64));
    }

    /**
     * A 1 -> 8 -> 6 -> 3 MLP in f64: the first layer's splitting matrices are 1 x 1 (fan-in 1), so their sign varies
     * from neuron to neuron and some neurons are splitting stable ({@code lambda_min >= 0}).
     */
    private static Sequential mlp1(long seed) {
        Rng r = new Rng(seed);
        return new Sequential(new Linear(1, 8, true, r, DType.F64), Act.tanh(), new Linear(8, 6, true, r, DType.F64),
                new Act(Activation.SOFTPLUS, 1), new Linear(6, 3, true, r, DType.F64));
    }

    private static Dataset mlp1Data() {
        Rng r = new Rng(13);
        Tensor x = Tensor.randn(r, DType.F32, 2.0, 60, 1);
        int[] y = new int[60];
        for (int i = 0; i < y.length; i++) {
            y[i] = x.get(i, 0) > 0.5 ? 0 : x.get(i, 0) < -1 ? 1 : 2;
        }
        return Dataset.classification("mlp1-data", x, y, 3);
    }

    /**
     * conv(2->3, bias) + BN + tanh + avgpool + conv(3->4) + BN + softplus + flatten + linear, in f64, with
     * non-trivial batch-norm affine parameters and running statistics; the same seed gives the same network.
     */
    private static Sequential cnn(long seed) {
        Rng r = new Rng(seed);
        Sequential net = new Sequential(new Conv2d(2, 3, 3, 1, 1, true, r, DType.F64), new BatchNorm(3, true, 0.1, 1e-5, DType.F64),
                Act.tanh(), Pool2d.avg(2), new Conv2d(3, 4, 3, 1, 1, false, r, DType.F64),
                new BatchNorm(4, true, 0.1, 1e-5, DType.F64), new Act(Activation.SOFTPLUS, 1.5), new Flatten(),
                new Linear(4 * 4 * 4, 3, true, r, DType.F64));
        for (int i : new int[] {1, 5}) {
            BatchNorm bn = (BatchNorm) net.get(i);
            int c = bn.features();
            bn.replace(Map.of("weight", Tensor.rand(r, DType.F64, 0.5, 1.5, c), "bias", Tensor.rand(r, DType.F64, -0.3, 0.3, c)), Map.of());
        }
        net.train(true);
        try (Autograd.Scope s = Autograd.noGrad()) {
            net.forward(Tensor.randn(r, DType.F64, 2.0, 16, 2, 8, 8));
        }
        net.train(false);
        return net;
    }

    private static Dataset cnnData() {
        Rng r = new Rng(12);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 20, 2, 8, 8);
        int[] y = new int[20];
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(3);
        }
        return Dataset.classification("cnn-data", x, y, 3);
    }

    private static GrowthContext ctx(Sequential net, Dataset data, int batch, double ratio) {
        return new GrowthContext(net, data, batch, ratio, new Rng(5), new CostMeter());
    }

    /** The mean loss over the sample, as the splitting matrices define it (batches weighted by their size). */
    private static double loss(Sequential net, GrowthContext c) {
        double sum = 0;
        int n = 0;
        DType dt = net.get(0).parameter("weight").dtype();
        for (Batches.Batch b : c.batches()) {
            Batches.Batch cb = SplittingMatrices.inDType(b, dt);
            sum += Trainer.loss(net.predict(cb.inputs()), cb, c.sample()).item() * b.size();
            n += b.size();
        }
        return sum / n;
    }

    private static double[] unit(Rng r, int n) {
        return RandomSplit.unitVector(r, n);
    }

    private static double frobenius(double[] m) {
        double s = 0;
        for (double x : m) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    /** A finite-difference ratio and its rounding floor (absolute). */
    private record Fd(double ratio, double roundoff) {
    }

    /** (L(split) - L(0)) / (eps^2/2) for one split applied to a fresh copy of the network. */
    private static Fd fd(LongFunction<Sequential> model, long seed, Dataset data, int batch, Plan.Split split) {
        Sequential base = model.apply(seed);
        double l0 = loss(base, ctx(base, data, batch, 1));
        Sequential grown = model.apply(seed);
        Surgery.apply(grown, new Plan(List.of(split), List.of()), null);
        double l1 = loss(grown, ctx(grown, data, batch, 1));
        double half = 0.5 * split.eps() * split.eps();
        return new Fd((l1 - l0) / half, FD_ROUNDOFF_ULPS * Math.ulp(l0) / half);
    }

    // ------------------------------------------------------------------------------------------ R0 (b)

    /** (L(eps) - L(0)) / (eps^2/2) -> v^T S_i v for the +-eps v split, random v and several neurons, MLP and CNN. */
    @Test
    void splittingMatricesAgreeWithFiniteDifferencesOfTheLoss() {
        checkFiniteDifferences(SplittingTest::mlp, 21, mlpData(), 25); // uneven batches: 25, 25, 10
        checkFiniteDifferences(SplittingTest::cnn, 22, cnnData(), 8);
    }

    private static void checkFiniteDifferences(LongFunction<Sequential> model, long seed, Dataset data, int batch) {
        Sequential net = model.apply(seed);
        GrowthContext c = ctx(net, data, batch, 1);
        Rng r = new Rng(seed + 100);
        int checked = 0;
        for (Site site : c.sites()) {
            SplittingMatrices s = SplittingMatrices.of(site, c, SplittingMatrices.DEFAULT_SURROGATE_BETA);
            assertEquals(DType.F64, s.dtype());
            for (int i : new int[] {0, site.neurons() - 1}) {
                double scale = frobenius(s.matrix(i));
                assertTrue(scale > 0, "S of neuron " + i + " in " + site + " is zero");
                for (int trial = 0; trial < 2; trial++) {
                    double[] v = unit(r, site.fanIn());
                    double q = s.quadraticForm(i, v);
                    double[] err = new double[STEPS.length], floor = new double[STEPS.length];
                    for (int k = 0; k < STEPS.length; k++) {
                        Fd f = fd(model, seed, data, batch, Plan.Split.positive(site.name(), i, v, STEPS[k], 0));
                        err[k] = Math.abs(f.ratio() - q) / scale;
                        floor[k] = f.roundoff() / scale;
                    }
                    String what = site + " neuron " + i + " v^T S v=" + q + " errors " + java.util.Arrays.toString(err);
                    for (int k = 1; k < STEPS.length; k++) {
                        assertTrue(err[k] * SECOND_ORDER_DECADE_GAIN < err[k - 1] || err[k] < floor[k],
                                "no O(eps^2) convergence: " + what);
                    }
                    assertTrue(err[STEPS.length - 1] < SYMMETRIC_FD_REL, what);
                    checked++;
                }
            }
        }
        assertEquals(8, checked);
    }

    /** lambda_min from symEig bounds v^T S v from below, is attained by v_min, and equals a dense f64 eigen-solve. */
    @Test
    void smallestAndLargestEigenpairsAreTheExtremesOfTheRayleighQuotient() {
        for (boolean conv : new boolean[] {false, true}) {
            Sequential net = conv ? cnn(31) : mlp(31);
            GrowthContext c = conv ? ctx(net, cnnData(), 10, 1) : ctx(net, mlpData(), 30, 1);
            Rng r = new Rng(32);
            for (SplittingMatrices s : SplittingMatrices.all(c, SplittingMatrices.DEFAULT_SURROGATE_BETA)) {
                SplittingMatrices.Eigenpairs lo = s.smallest(c.cost()), hi = s.largest(c.cost());
                int n = s.dim();
                for (int i = 0; i < s.neurons(); i++) {
                    double[] a = s.matrix(i);
                    double scale = frobenius(a);
                    double tol = Tol.DECOMP_F64 * n * scale;
                    double[] w = new double[n];
                    SymmetricEigen.full(n, a, 0, w, 0, null, 0);
                    assertEquals(w[0], lo.values()[i], tol, "lambda_min vs dense eigen, " + s.siteName() + "/" + i);
                    assertEquals(w[n - 1], hi.values()[i], tol, "lambda_max vs dense eigen, " + s.siteName() + "/" + i);
                    assertEquals(1.0, Math.sqrt(dot(lo.vectors()[i], lo.vectors()[i])), Tol.F64 * n);
                    assertEquals(lo.values()[i], s.quadraticForm(i, lo.vectors()[i]), tol, "v_min attains lambda_min");
                    assertEquals(hi.values()[i], s.quadraticForm(i, hi.vectors()[i]), tol, "v_max attains lambda_max");
                    double minSeen = Double.POSITIVE_INFINITY, maxSeen = Double.NEGATIVE_INFINITY;
                    for (int t = 0; t < RANDOM_DIRECTIONS; t++) {
                        double q = s.quadraticForm(i, unit(r, n));
                        minSeen = Math.min(minSeen, q);
                        maxSeen = Math.max(maxSeen, q);
                    }
                    assertTrue(lo.values()[i] <= minSeen + tol, "lambda_min " + lo.values()[i] + " above a sampled quotient " + minSeen);
                    assertTrue(hi.values()[i] >= maxSeen - tol, "lambda_max " + hi.values()[i] + " below a sampled quotient " + maxSeen);
                }
            }
            assertTrue(c.cost().seconds("statistics") > 0 && c.cost().seconds("eigen") > 0, "phases timed");
            assertTrue(c.cost().flops() > 0);
        }
    }

    /** An f32 model accumulates in f32 and agrees with the same model in f64. */
    @Test
    void anF32ModelKeepsItsDtypeAndAgreesWithF64() {
        Sequential net64 = mlp(41), net32 = mlp(41);
        for (int i : new int[] {0, 2, 4}) {
            Linear l = (Linear) net32.get(i);
            l.replace(Map.of("weight", l.weight().to(DType.F32), "bias", l.parameter("bias").to(DType.F32)), Map.of());
        }
        Dataset data = mlpData();
        GrowthContext c64 = ctx(net64, data, 20, 1), c32 = ctx(net32, data, 20, 1);
        List<SplittingMatrices> s64 = SplittingMatrices.all(c64, 3), s32 = SplittingMatrices.all(c32, 3);
        for (int k = 0; k < s64.size(); k++) {
            assertEquals(DType.F32, s32.get(k).dtype());
            int rows = (int) s64.get(k).rows();
            for (int i = 0; i < s64.get(k).neurons(); i++) {
                double[] a = s64.get(k).matrix(i), b = s32.get(k).matrix(i);
                double tol = Tol.f32(rows) * frobenius(a);
                for (int j = 0; j < a.length; j++) {
                    assertEquals(a[j], b[j], tol, "S entry " + j + " of neuron " + i);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ R0 (f)

    /** The signed split's loss change is (eps^2/2) r v^T S v with r = w1/w2, for v_max and for random v. */
    @Test
    void signedSplitChangesTheLossByRTimesTheQuadraticForm() {
        for (boolean conv : new boolean[] {false, true}) {
            LongFunction<Sequential> model = conv ? SplittingTest::cnn : SplittingTest::mlp;
            Dataset data = conv ? cnnData() : mlpData();
            int batch = conv ? 10 : 20;
            long seed = 51;
            Sequential net = model.apply(seed);
            GrowthContext c = ctx(net, data, batch, 1);
            Rng r = new Rng(52);
            double cc = 3;
            double rr = new SignedSplitting(0.01, cc, 3).ratio();
            assertEquals(-0.5, rr, Tol.F64);
            for (SplittingMatrices s : SplittingMatrices.all(c, 3)) {
                SplittingMatrices.Eigenpairs hi = s.largest(c.cost());
                int i = hi.argmin() == 0 ? s.neurons() - 1 : 0;
                double scale = frobenius(s.matrix(i));
                for (double[] v : List.of(hi.vectors()[i], unit(r, s.dim()))) {
                    double q = s.quadraticForm(i, v);
                    double[] err = new double[STEPS.length];
                    for (int k = 0; k < STEPS.length; k++) {
                        Plan.Split sp = Plan.Split.signed(s.siteName(), i, v, STEPS[k], cc, 0);
                        assertEquals(rr, sp.w1() / sp.w2(), Tol.F64);
                        err[k] = Math.abs(fd(model, seed, data, batch, sp).ratio() - rr * q) / scale;
                    }
                    String what = s.siteName() + "/" + i + " r v^T S v=" + rr * q + " errors " + java.util.Arrays.toString(err);
                    for (int k = 1; k < STEPS.length; k++) {
                        assertTrue(err[k] < err[k - 1], "no convergence: " + what);
                    }
                    int last = STEPS.length - 1;
                    assertTrue(err[last] * FIRST_ORDER_DECADE_GAIN < err[last - 1], "no O(eps) convergence: " + what);
                    assertTrue(err[STEPS.length - 1] < SIGNED_FD_REL, what);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ the methods

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /** The exact plan splits only neurons with lambda_min < 0, the most negative ones, within the budget. */
    @Test
    void exactPlanTakesTheMostNegativeEigenvaluesWithinTheBudget() {
        boolean mixedSigns = false;
        for (int model = 0; model < 3; model++) {
            Sequential net = model == 0 ? mlp(61) : model == 1 ? cnn(61) : mlp1(61);
            Dataset data = model == 0 ? mlpData() : model == 1 ? cnnData() : mlp1Data();
            int batch = model == 1 ? 10 : 20;
            double ratio = 0.3;
            GrowthContext c = ctx(net, data, batch, ratio);
            ExactSplitting exact = new ExactSplitting();
            ExactSplitting.Analysis a = exact.analyse(c);
            List<Double> negatives = new ArrayList<>();
            int total = 0;
            for (SplittingMatrices.Eigenpairs e : a.smallest().values()) {
                for (double l : e.values()) {
                    total++;
                    if (l < 0) {
                        negatives.add(l);
                    }
                }
            }
            mixedSigns |= negatives.size() < total;
            assertTrue(!negatives.isEmpty(), "no negative lambda_min to split");
            Plan plan = exact.plan(a, c.budget());
            assertEquals(Math.min(c.budget(), negatives.size()), plan.size());
            negatives.sort(Double::compare);
            double worstTaken = negatives.get(plan.size() - 1);
            for (Plan.Split sp : plan.splits()) {
                double lambda = a.smallest().get(sp.site()).values()[sp.neuron()];
                assertTrue(lambda < 0 && lambda <= worstTaken, "split with lambda_min " + lambda);
                assertEquals(ExactSplitting.DEFAULT_EPS, sp.eps());
                assertEquals(0.5 * sp.eps() * sp.eps() * lambda, sp.predictedChange(), Tol.F64 * Math.abs(lambda));
                assertArrayEquals(a.smallest().get(sp.site()).vectors()[sp.neuron()], sp.delta1());
            }
            // a budget larger than the number of negative eigenvalues takes exactly the negative ones
            Plan all = exact.plan(a, total);
            assertEquals(negatives.size(), all.size());
            for (Plan.Split sp : all.splits()) {
                assertTrue(a.smallest().get(sp.site()).values()[sp.neuron()] < 0, "a splitting-stable neuron was split");
            }
            // a threshold keeps only lambda_min below it
            double median = negatives.get(negatives.size() / 2);
            Plan below = new ExactSplitting(0.01, 3, median).plan(a, total);
            assertEquals(negatives.size() / 2, below.size());
            for (Plan.Split sp : below.splits()) {
                assertTrue(a.smallest().get(sp.site()).values()[sp.neuron()] < median);
            }
            // propose() is analyse + plan, and the plan's predicted decrease is achieved (R0: predicted vs achieved)
            Plan proposed = exact.propose(ctx(net, data, batch, ratio));
            assertEquals(plan.size(), proposed.size());
            double before = loss(net, c);
            Surgery.apply(net, proposed, null);
            double achieved = before - loss(net, ctx(net, data, batch, ratio));
            assertEquals(proposed.predictedDecrease(), achieved, PLAN_PREDICTION_REL * proposed.predictedDecrease(),
                    "predicted vs achieved decrease");
            assertTrue(achieved > 0);
        }
        assertTrue(mixedSigns, "some splitting-stable neuron must exist to test the sign check");
    }

    /**
     * Where a neuron is splitting stable (lambda_min >= 0) exact never splits it, but signed does (when
     * lambda_max > 0), and that signed split lowers the loss by the predicted amount; elsewhere signed takes the
     * better of its two splits.
     */
    @Test
    void signedGrowsWhereExactIsStable() {
        long seed = 71;
        Dataset data = mlp1Data();
        Sequential net = mlp1(seed);
        GrowthContext c = ctx(net, data, 20, 1.0);
        SignedSplitting signed = new SignedSplitting();
        SignedSplitting.Analysis a = signed.analyse(c);
        int total = 14;
        Plan exactPlan = new ExactSplitting().plan(new ExactSplitting.Analysis(a.matrices(), a.smallest()), total);
        Plan signedPlan = signed.plan(a, total);
        Set<String> exactSplit = new HashSet<>();
        exactPlan.splits().forEach(sp -> exactSplit.add(sp.site() + "/" + sp.neuron()));
        List<Plan.Split> stable = new ArrayList<>();
        for (Plan.Split sp : signedPlan.splits()) {
            double lmin = a.smallest().get(sp.site()).values()[sp.neuron()];
            double lmax = a.largest().get(sp.site()).values()[sp.neuron()];
            double pos = 0.5 * sp.eps() * sp.eps() * lmin, sgn = 0.5 * sp.eps() * sp.eps() * signed.ratio() * lmax;
            assertEquals(Math.min(pos, sgn), sp.predictedChange(), Tol.F64 * Math.abs(sp.predictedChange()));
            assertEquals(sgn < pos, sp.w1() < 0, "the better split is proposed");
            if (sp.w1() < 0) {
                assertEquals(-1.0, sp.w1(), Tol.F64);
                assertEquals(2.0, sp.w2(), Tol.F64);
                assertArrayEquals(a.largest().get(sp.site()).vectors()[sp.neuron()], sp.delta1());
            }
            if (lmin >= 0) {
                assertTrue(sp.w1() < 0 && lmax > 0);
                assertFalse(exactSplit.contains(sp.site() + "/" + sp.neuron()), "exact split a stable neuron");
                stable.add(sp);
            }
        }
        assertFalse(stable.isEmpty(), "no splitting-stable neuron with lambda_max > 0 in this network");
        // splitting only the stable neurons: exact could not lower the loss there, signed does, as predicted
        Plan onlyStable = new Plan(stable, List.of());
        double before = loss(net, c);
        Surgery.apply(net, onlyStable, null);
        double achieved = before - loss(net, ctx(net, data, 20, 1.0));
        assertTrue(achieved > 0, "signed splits of stable neurons lower the loss");
        assertEquals(onlyStable.predictedDecrease(), achieved, PLAN_PREDICTION_REL * onlyStable.predictedDecrease());
    }

    @Test
    void identityActivatedLayersAreRefusedAndTheModelIsLeftUnchanged() {
        Rng r = new Rng(81);
        Sequential net = new Sequential(new Linear(4, 5, true, r, DType.F64), new Act(Activation.IDENTITY),
                new Linear(5, 3, true, r, DType.F64));
        String arch = Modules.describe(net);
        double[] w = ((Linear) net.get(0)).weight().toDoubleArray();
        for (String name : List.of("exact", "signed")) {
            GrowthMethod m = Methods.create(name);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.propose(ctx(net, mlpData(), 20, 0.5)));
            assertTrue(e.getMessage().contains("identity") && e.getMessage().contains("layer 0"), e.getMessage());
        }
        assertEquals(arch, Modules.describe(net));
        assertArrayEquals(w, ((Linear) net.get(0)).weight().toDoubleArray());
        // the baselines do not need sigma''
        assertEquals(2, Methods.create("random-split").propose(ctx(net, mlpData(), 20, 0.5)).size());
    }

    @Test
    void growthRatioOutsideTheUnitIntervalIsRefused() {
        for (double bad : new double[] {0, -0.1, 1.5, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ctx(mlp(1), mlpData(), 20, bad));
            assertTrue(e.getMessage().contains("growth ratio must be in (0, 1]"), e.getMessage());
        }
    }

    @Test
    void randomSplitDrawsDistinctNeuronsWithUnitDirections() {
        Sequential net = cnn(91);
        GrowthContext c = ctx(net, cnnData(), 10, 0.5);
        Plan p = Methods.create("random-split", Map.of("eps", "0.02")).propose(c);
        assertEquals(c.budget(), p.size());
        Set<String> seen = new HashSet<>();
        for (Plan.Split sp : p.splits()) {
            assertTrue(seen.add(sp.site() + "/" + sp.neuron()), "drawn twice");
            assertEquals(1.0, Math.sqrt(dot(sp.delta1(), sp.delta1())), Tol.F64 * sp.delta1().length);
            assertEquals(0.02, sp.eps());
            assertTrue(Double.isNaN(sp.predictedChange()));
        }
        Surgery.apply(net, p, null);
    }

    @Test
    void randomNewAddsSilentNeuronsInProportionToWidth() {
        Sequential net = cnn(92);
        Dataset data = cnnData();
        GrowthContext c = ctx(net, data, 10, 1.0); // 7 neurons: 3 + 4
        Tensor x = data.inputs().to(DType.F64);
        Tensor before = net.predict(x);
        Plan p = Methods.create("random-new").propose(c);
        assertEquals(7, p.size());
        Map<String, Integer> per = new java.util.HashMap<>();
        for (Plan.NewNeuron nn : p.additions()) {
            per.merge(nn.site(), 1, Integer::sum);
            Site s = Site.named(net, nn.site());
            double bound = 1 / Math.sqrt(s.fanIn());
            for (double v : nn.incoming()) {
                assertTrue(Math.abs(v) <= bound);
            }
            assertEquals(0.0, nn.bias());
            for (double v : nn.outgoing()) {
                assertEquals(0.0, v);
            }
            assertTrue(Double.isNaN(nn.predictedChange()));
        }
        assertEquals(Map.of("0", 3, "4", 4), per);
        Surgery.apply(net, p, null);
        double[] a = before.toDoubleArray(), b = net.predict(x).toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], Tol.F64 * Math.max(1, Math.abs(a[i])), "function preserved");
        }
        // uneven widths, budget 3 over widths 3 and 4: 3 * 3/7 = 1.29, 3 * 4/7 = 1.71 -> 1 and 2
        assertArrayEquals(new int[] {1, 2}, RandomNew.allocate(Site.find(cnn(92)), 3, new Rng(1)));
    }

    @Test
    void registryCreatesEveryMethodAndExplainsMistakes() {
        List<String> mine = List.of("exact", "signed", "random-split", "random-new");
        assertTrue(Methods.names().containsAll(mine), Methods.names().toString());
        for (String n : Methods.names()) {
            assertEquals(n, Methods.create(n).name());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Methods.create("fastest"));
        assertTrue(e.getMessage().contains("unknown growth method 'fastest'"), e.getMessage());
        for (String n : Methods.names()) {
            assertTrue(e.getMessage().contains(n), e.getMessage());
        }
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("exact", Map.of("epsilon", "0.1")));
        assertTrue(e.getMessage().contains("unknown option epsilon") && e.getMessage().contains("eps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("signed", Map.of("c", "1")));
        assertTrue(e.getMessage().contains("c (the bound"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("exact", Map.of("eps", "big")));
        assertTrue(e.getMessage().contains("must be a number"), e.getMessage());
        SignedSplitting s = (SignedSplitting) Methods.create("signed", Map.of("c", "5", "eps", "0.001"));
        assertEquals(5, s.c());
        assertEquals(0.001, s.eps());
        assertEquals(-0.5, ((ExactSplitting) Methods.create("exact", Map.of("threshold", "-0.5"))).threshold());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("random-new", Map.of("eps", "0.01")));
        assertTrue(e.getMessage().contains("unknown option eps") && e.getMessage().contains("known: none"), e.getMessage());
    }
}
