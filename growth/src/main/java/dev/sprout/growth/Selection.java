package dev.sprout.growth;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Global selection of neurons across layers from their scores (a score is the predicted change in loss of growing
 * that neuron: more negative is better).
 */
public final class Selection {
    private Selection() {
    }

    /** A scored candidate: a neuron of a site (or a new-neuron candidate), its score and its cost. */
    public record Candidate(String site, int neuron, double score, double cost) {
    }

    /**
     * The (at most) {@code k} candidates with the most negative scores across all layers, only those with a
     * negative score (a non-negative score predicts no decrease at second order; the official code's missing sign
     * check is not reproduced). Ties are broken by site order then neuron index, so the result is deterministic.
     */
    public static List<Candidate> topK(List<Candidate> all, int k) {
        List<Candidate> neg = new ArrayList<>();
        for (Candidate c : all) {
            if (c.score() < 0 && Double.isFinite(c.score())) {
                neg.add(c);
            }
        }
        neg.sort(Comparator.comparingDouble(Candidate::score));
        return new ArrayList<>(neg.subList(0, Math.min(k, neg.size())));
    }

    /**
     * The official Firefly / splitting code's rule ({@code sp/net.py: split}), kept to reproduce it: sort all finite
     * scores, take the threshold {@code sorted[k]}, and select every candidate with {@code score <= threshold}. That
     * selects {@code k + 1} candidates (more with ties; all when {@code k >= n}), and candidates with a positive
     * score too: the off-by-one and the missing sign check that {@link #topK} fixes.
     */
    public static List<Candidate> officialThreshold(List<Candidate> all, int k) {
        List<Candidate> finite = new ArrayList<>();
        for (Candidate c : all) {
            if (Double.isFinite(c.score())) {
                finite.add(c);
            }
        }
        finite.sort(Comparator.comparingDouble(Candidate::score));
        if (k >= finite.size()) {
            return finite;
        }
        double threshold = finite.get(k).score();
        List<Candidate> out = new ArrayList<>();
        for (Candidate c : finite) {
            if (c.score() <= threshold) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * Energy-aware selection (fast splitting's knapsack with one budget): candidates with a negative score, in
     * ascending order of {@code score / cost} (most decrease per unit of cost first), taken while their total cost
     * fits the budget (the fractional knapsack's greedy rule, without the fractional last item).
     */
    public static List<Candidate> knapsack(List<Candidate> all, double budget) {
        List<Candidate> neg = new ArrayList<>();
        for (Candidate c : all) {
            if (c.score() < 0 && Double.isFinite(c.score())) {
                if (!(c.cost() > 0)) {
                    throw new IllegalArgumentException("knapsack: candidate " + c + " needs a positive cost");
                }
                neg.add(c);
            }
        }
        neg.sort(Comparator.comparingDouble((Candidate c) -> c.score() / c.cost()));
        List<Candidate> out = new ArrayList<>();
        double used = 0;
        for (Candidate c : neg) {
            if (used + c.cost() <= budget) {
                out.add(c);
                used += c.cost();
            }
        }
        return out;
    }
}
