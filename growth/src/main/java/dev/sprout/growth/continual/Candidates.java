package dev.sprout.growth.continual;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Firefly-CL's new-neuron candidates for the newest task {@code s} of a {@link ColumnNet}: {@code K} per hidden
 * layer, each behind a gate (its output times {@code g}); with every gate at 0 the network's function is unchanged.
 * A candidate of layer {@code l} reads the neurons task {@code s} sees in layer {@code l-1} ({@code in}, old ones
 * through their mask) and the candidates of layer {@code l-1} ({@code fromPrev}); it feeds task {@code s}'s own
 * neurons of layer {@code l+1} ({@code outOwn} of layer {@code l+1}), the candidates of layer {@code l+1}, and, in
 * the last layer, task {@code s}'s head ({@code outHead}). Older tasks' neurons never read a candidate, so choosing
 * any of them leaves older tasks unchanged. {@link #materialise} turns the chosen ones into neurons of task
 * {@code s}, exactly as they act with their gates at 1 (and the others at 0).
 */
final class Candidates {
    final int task, k;
    final Tensor[] in, fromPrev, outOwn, gate;
    final Tensor outHead;

    private Candidates(int task, int k, Tensor[] in, Tensor[] fromPrev, Tensor[] outOwn, Tensor outHead, Tensor[] gate) {
        this.task = task;
        this.k = k;
        this.in = in;
        this.fromPrev = fromPrev;
        this.outOwn = outOwn;
        this.outHead = outHead;
        this.gate = gate;
    }

    /**
     * K candidates per layer for task {@code s}: incoming weights uniform in {@code +-1/sqrt(fan-in)} (a linear layer's
     * initialisation), outgoing and candidate-to-candidate weights uniform in {@code +-out}, gates 1.
     */
    static Candidates create(ColumnNet net, int s, int k, double out, Rng rng) {
        if (k < 1) {
            throw new IllegalArgumentException("firefly-cl: candidates per layer must be >= 1, got " + k);
        }
        int layers = net.layers();
        Tensor[] in = new Tensor[layers], fromPrev = new Tensor[layers], outOwn = new Tensor[layers], gate = new Tensor[layers];
        for (int l = 0; l < layers; l++) {
            int fan = net.fanIn(l, s);
            double bound = 1 / Math.sqrt(fan);
            in[l] = Tensor.rand(rng, DType.F32, -bound, bound, k, fan);
            if (l > 0) {
                fromPrev[l] = Tensor.rand(rng, DType.F32, -out, out, k, k);
                ColumnNet.Block own = net.own(l, s);
                if (own != null) {
                    outOwn[l] = Tensor.rand(rng, DType.F32, -out, out, own.neurons(), k);
                }
            }
            gate[l] = Tensor.ones(DType.F32, k);
        }
        int classes = net.head(s)[0].dim(0);
        return new Candidates(s, k, in, fromPrev, outOwn, Tensor.rand(rng, DType.F32, -out, out, classes, k), gate);
    }

    /** The candidates' trainable weights (not the gates), by name. */
    Map<String, Tensor> weights() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (int l = 0; l < in.length; l++) {
            m.put("in" + l, in[l]);
            if (fromPrev[l] != null) {
                m.put("prev" + l, fromPrev[l]);
            }
            if (outOwn[l] != null) {
                m.put("own" + l, outOwn[l]);
            }
        }
        m.put("head", outHead);
        return m;
    }

    /**
     * Adds the chosen candidates ({@code chosen[l]}: ascending indices in layer {@code l}) to task {@code s}'s neurons,
     * layer by layer: a chosen candidate becomes a neuron with its incoming weights (from the old neurons and from the
     * chosen candidates of the layer before), bias 0, and its outgoing weights into task {@code s}'s next-layer
     * neurons or head.
     */
    void materialise(ColumnNet net, int[][] chosen) {
        int layers = in.length;
        for (int l = 0; l < layers; l++) {
            int[] c = chosen[l];
            if (c.length == 0) {
                continue;
            }
            Tensor rows = pick(in[l], c, null);
            if (l > 0 && chosen[l - 1].length > 0) {
                rows = dev.sprout.autograd.Ops.concat(1, rows, pick(fromPrev[l], c, chosen[l - 1])).detach();
            }
            Tensor next = l + 1 < layers && outOwn[l + 1] != null ? pick(outOwn[l + 1], null, c) : null;
            // a next-layer own block created after these candidates were made has no outOwn; it starts now, below
            Tensor head = l == layers - 1 ? pick(outHead, null, c) : null;
            net.append(l, task, rows, new double[c.length], next, head);
        }
    }

    /** Rows {@code rows} (null: all) and columns {@code cols} (null: all) of a matrix, as a new f32 tensor. */
    static Tensor pick(Tensor t, int[] rows, int[] cols) {
        int n = t.dim(0), m = t.dim(1);
        float[] v = t.toFloatArray();
        int[] r = rows != null ? rows : range(n), c = cols != null ? cols : range(m);
        float[] out = new float[r.length * c.length];
        for (int i = 0; i < r.length; i++) {
            for (int j = 0; j < c.length; j++) {
                out[i * c.length + j] = v[r[i] * m + c[j]];
            }
        }
        return Tensor.of(out, r.length, c.length);
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }
}
