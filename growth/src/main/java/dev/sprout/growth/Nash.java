package dev.sprout.growth;

import dev.sprout.data.Dataset;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.CosineLr;
import dev.sprout.optim.SGD;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * NASH-style hill climbing (Elsken et al. 2017; spec section 6), growth method {@code "nash"}: {@code children}
 * copies of the network each get a random function-preserving change ({@code morphism}: {@link RandomSplit} by
 * default, as the official {@code method=random}; or {@link RandomNew}, {@link Net2Net}) of the step's budget, each
 * copy is trained briefly ({@code epochs} epochs of SGD with momentum on the context's training set, the learning
 * rate annealed by a cosine from {@code lr}, as the official 17 epochs from 0.05), and the child with the lowest
 * loss on the context's sample, a validation split held out of the training set, is kept: the plan is its random
 * change plus its trained weights ({@link Plan#trained}). Nothing is predicted ({@code predictedChange} NaN).
 *
 * <p>Deviations from the official code, on purpose (spec sections 6 and 13): the child is chosen on validation
 * data, never the test set (the official code scores children on the test set), and the best one is kept (there
 * {@code best_acc} is never updated, so the last child wins); the random change is {@link RandomSplit}'s (without
 * replacement, one symmetric direction) rather than the official per-row noise. Children draw their change and their
 * batch order from {@code ctx.rng()}, so a run is reproducible; ties keep the first child.
 *
 * <p>Options: {@code children} (4; the official code 8), {@code epochs} (1; 0 selects by the change alone),
 * {@code lr} (0.05), {@code momentum} (0.9), {@code batch} (64), {@code morphism} (random-split).
 *
 * <p>Cost: {@code children * epochs} training epochs of the grown network plus one validation pass per child,
 * counted as FLOPs (a training example as three forward passes).
 */
public final class Nash implements GrowthMethod {
    public static final String NAME = "nash";
    public static final List<String> MORPHISMS = List.of(RandomSplit.NAME, RandomNew.NAME, Net2Net.NAME);

    private final int children, epochs, batch;
    private final double lr, momentum;
    private final GrowthMethod morphism;

    /**
     * @param morphism the random change each child gets (any growth method; the registry offers {@link #MORPHISMS})
     */
    public Nash(int children, int epochs, double lr, double momentum, int batch, GrowthMethod morphism) {
        if (children < 1 || epochs < 0 || batch < 1) {
            throw new IllegalArgumentException(NAME + ": children must be >= 1, epochs >= 0 and batch >= 1, got " + children + ", "
                    + epochs + ", " + batch);
        }
        if (!(lr > 0) || !Double.isFinite(lr) || !(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException(NAME + ": lr must be > 0 and momentum in [0, 1), got " + lr + ", " + momentum);
        }
        this.children = children;
        this.epochs = epochs;
        this.lr = lr;
        this.momentum = momentum;
        this.batch = batch;
        this.morphism = morphism;
    }

    public Nash() {
        this(4, 1, 0.05, 0.9, 64, new RandomSplit());
    }

    Nash(Methods.Options o) {
        this(o.integer("children", 4), o.integer("epochs", 1), o.number("lr", 0.05), o.number("momentum", 0.9),
                o.integer("batch", 64), morphism(o.text("morphism", RandomSplit.NAME)));
    }

    private static GrowthMethod morphism(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (!MORPHISMS.contains(n)) {
            throw new IllegalArgumentException(NAME + ": option morphism must be one of " + String.join(", ", MORPHISMS) + ", got '"
                    + name + "'");
        }
        return Methods.create(n);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void check(Sequential net) {
        morphism.check(net);
    }

    /** One child: its random change, its loss on the validation sample after training, and its trained state. */
    public record Child(Plan change, double validationLoss, Map<String, Tensor> state) {
    }

    /** Every child, in the order they were made, and the index of the one kept. */
    public record Analysis(List<Child> children, int best) {
        public Child chosen() {
            return children.get(best);
        }
    }

    /** Makes, trains and scores the children (costs in the context's meter); the network itself is not changed. */
    public Analysis analyse(GrowthContext ctx) {
        Dataset train = ctx.train(), sample = ctx.sample();
        List<Child> out = new ArrayList<>();
        int best = -1;
        for (int c = 0; c < children; c++) {
            Rng rng = new Rng(ctx.rng().nextLong());
            long dataSeed = ctx.rng().nextLong();
            Sequential child = Networks.copy(ctx.net());
            GrowthContext cc = new GrowthContext(child, sample, ctx.batchSize(), ctx.growRatio(), rng, ctx.cost(), train);
            Plan change = morphism.propose(cc);
            Surgery.apply(child, change, null);
            double fwd = child.flopsPerExample(ctx.exampleShape());
            if (epochs > 0) {
                ctx.cost().time("children", () -> {
                    SGD opt = new SGD(child, lr, momentum);
                    CosineLr schedule = new CosineLr(lr, epochs, 0.0);
                    for (int e = 0; e < epochs; e++) {
                        opt.setLearningRate(schedule.lr(e));
                        Trainer.trainEpoch(child, opt, train, Math.min(batch, train.size()), dataSeed, e + 1, null);
                    }
                });
                ctx.cost().addFlops(3 * fwd * train.size() * (double) epochs);
            }
            double loss = ctx.cost().time("statistics", () -> Trainer.evaluate(child, sample, ctx.batchSize()).loss());
            ctx.cost().addFlops(fwd * sample.size());
            out.add(new Child(change, loss, Networks.state(child)));
            if (best < 0 || loss < out.get(best).validationLoss()) {
                best = c;
            }
        }
        return new Analysis(out, best);
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        Child c = analyse(ctx).chosen();
        return c.change().withTrained(c.state());
    }

    @Override
    public String toString() {
        return NAME + "(children=" + children + ", epochs=" + epochs + ", lr=" + lr + ", momentum=" + momentum + ", batch=" + batch
                + ", morphism=" + morphism + ")";
    }
}
