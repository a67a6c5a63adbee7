package dev.sprout.autograd;

import dev.sprout.backend.Activation;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Storage;
import dev.sprout.tensor.Tensor;

/**
 * Fused pointwise operations for the growth methods' over-grown networks, each one pass over its data forward and
 * one backward instead of a chain of {@link Ops} with a full-size temporary per step. Channel axis 1 ({@code [N, C]}
 * or {@code [N, C, ...]}); f32 and f64. Their backward rules are first-order only: they compute gradients with plain
 * loops, so {@link Autograd#grad} with {@code createGraph = true} through them is refused.
 */
public final class FusedOps {
    private FusedOps() {
    }

    /**
     * The mean of a neuron's two split offspring after an affine per-channel map (batch norm in evaluation mode) and
     * an activation: {@code 0.5 (f(a_c (z + g_c p) + b_c) + f(a_c (z - g_c p) + b_c))}, elementwise with channel
     * {@code c}. Without {@code p} (null): {@code f(a_c z + b_c)}. Gradients for {@code z}, {@code p} and the gate
     * {@code g} ({@code [C]}); {@code a} and {@code b} are constants.
     */
    public static Tensor splitActivation(Tensor z, Tensor p, Tensor gate, double[] scale, double[] shift, Activation f,
                                         double beta) {
        int n = z.dim(0), c = z.dim(1), s = inner(z);
        if (p != null && (!p.shape().equals(z.shape()) || p.dtype() != z.dtype())) {
            throw new ShapeException("splitActivation: displacement " + p.describe() + " does not match " + z.describe());
        }
        if (p != null && (gate == null || gate.numel() != c)) {
            throw new ShapeException("splitActivation: need a gate of " + c + " values for " + z.describe());
        }
        if (scale.length != c || shift.length != c) {
            throw new ShapeException("splitActivation: " + scale.length + " scales / " + shift.length + " shifts for " + z.describe());
        }
        Buf zb = Buf.of(z), pb = p == null ? null : Buf.of(p);
        double[] g = p == null ? null : gate.toDoubleArray();
        Buf out = Buf.zeros(z.dtype(), z.numel());
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                int at = (i * c + ch) * s;
                if (pb == null) {
                    out.affineAct(zb, at, s, scale[ch], shift[ch], f, beta);
                } else {
                    out.splitAct(zb, pb, at, s, g[ch], scale[ch], shift[ch], f, beta);
                }
            }
        }
        Tensor result = out.tensor(z.shape());
        Tensor[] inputs = p == null ? new Tensor[] {z} : new Tensor[] {z, p, gate};
        return record("splitActivation", result, go -> {
            firstOrderOnly("splitActivation");
            Buf gb = Buf.of(go);
            Buf dz = z.requiresGrad() ? Buf.zeros(z.dtype(), z.numel()) : null;
            if (pb == null) {
                for (int i = 0; i < n; i++) {
                    for (int ch = 0; ch < c; ch++) {
                        int at = (i * c + ch) * s;
                        Buf.affineActBackward(gb, zb, dz, at, s, scale[ch], shift[ch], f, beta);
                    }
                }
                return new Tensor[] {dz == null ? null : dz.tensor(z.shape())};
            }
            Buf dp = p.requiresGrad() ? Buf.zeros(z.dtype(), z.numel()) : null;
            double[] dg = new double[c];
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < c; ch++) {
                    int at = (i * c + ch) * s;
                    dg[ch] += Buf.splitActBackward(gb, zb, pb, dz, dp, at, s, g[ch], scale[ch], shift[ch], f, beta);
                }
            }
            return new Tensor[] {dz == null ? null : dz.tensor(z.shape()), dp == null ? null : dp.tensor(p.shape()),
                    gate.requiresGrad() ? Tensor.of(dg).to(gate.dtype()).reshape(gate.shape().toArray()) : null};
        }, inputs);
    }

    /**
     * New neurons switched on by gates: {@code f(a x) g_c} elementwise with channel {@code c} (a constant {@code a}:
     * batch norm of a fresh channel in evaluation mode). Gradients for {@code x} and the gate ({@code [C]}).
     */
    public static Tensor gatedActivation(Tensor x, Tensor gate, double a, Activation f, double beta) {
        int n = x.dim(0), c = x.dim(1), s = inner(x);
        if (gate.numel() != c) {
            throw new ShapeException("gatedActivation: gate " + gate.describe() + " for " + c + " channels of " + x.describe());
        }
        Buf xb = Buf.of(x);
        double[] g = gate.toDoubleArray();
        Buf out = Buf.zeros(x.dtype(), x.numel());
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < c; ch++) {
                out.gatedAct(xb, (i * c + ch) * s, s, a, g[ch], f, beta);
            }
        }
        return record("gatedActivation", out.tensor(x.shape()), go -> {
            firstOrderOnly("gatedActivation");
            Buf gb = Buf.of(go);
            Buf dx = x.requiresGrad() ? Buf.zeros(x.dtype(), x.numel()) : null;
            double[] dg = new double[c];
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < c; ch++) {
                    dg[ch] += Buf.gatedActBackward(gb, xb, dx, (i * c + ch) * s, s, a, g[ch], f, beta);
                }
            }
            return new Tensor[] {dx == null ? null : dx.tensor(x.shape()),
                    gate.requiresGrad() ? Tensor.of(dg).to(gate.dtype()).reshape(gate.shape().toArray()) : null};
        }, x, gate);
    }

    // ------------------------------------------------------------------------------------------ plumbing

    private static int inner(Tensor t) {
        if (t.rank() < 2) {
            throw new ShapeException("fused op: need [N, C, ...], got " + t.describe());
        }
        return t.dim(0) * t.dim(1) == 0 ? 0 : t.numel() / (t.dim(0) * t.dim(1));
    }

    private static void firstOrderOnly(String op) {
        if (Autograd.isRecording()) {
            throw new UnsupportedOperationException(op + ": first-order gradients only (createGraph through a fused op)");
        }
    }

    /** Attaches the backward rule (these ops are not in the registry: their backward is first-order only). */
    private static Tensor record(String op, Tensor out, Node.Backward backward, Tensor... inputs) {
        return Ops.attach(op, out, backward, inputs);
    }

    /** Contiguous f32 or f64 data with its offset. */
    private static final class Buf {
        final float[] f;
        final double[] d;
        final int off;

        private Buf(float[] f, double[] d, int off) {
            this.f = f;
            this.d = d;
            this.off = off;
        }

        static Buf of(Tensor t) {
            Tensor c = t.contiguousData();
            if (c.dtype() == DType.F32) {
                return new Buf(c.storage().floats(), null, c.offset());
            }
            if (c.dtype() == DType.F64) {
                return new Buf(null, c.storage().doubles(), c.offset());
            }
            throw new ShapeException("fused op: f32 or f64 only, got " + t.describe());
        }

        static Buf zeros(DType dt, int n) {
            return dt == DType.F32 ? new Buf(new float[n], null, 0) : new Buf(null, new double[n], 0);
        }

        Tensor tensor(Shape s) {
            return Tensor.wrap(f != null ? Storage.wrap(f, false) : Storage.wrap(d), s);
        }

        double get(int i) {
            return f != null ? f[off + i] : d[off + i];
        }

        void set(int i, double v) {
            if (f != null) {
                f[off + i] = (float) v;
            } else {
                d[off + i] = v;
            }
        }

        void add(int i, double v) {
            if (f != null) {
                f[off + i] += (float) v;
            } else {
                d[off + i] += v;
            }
        }

        void affineAct(Buf z, int at, int s, double a, double b, Activation act, double beta) {
            if (f != null && act == Activation.RELU) {
                float af = (float) a, bf = (float) b;
                float[] zf = z.f;
                int zo = z.off + at;
                for (int j = 0; j < s; j++) {
                    f[at + j] = Math.max(0f, zf[zo + j] * af + bf);
                }
                return;
            }
            for (int j = 0; j < s; j++) {
                set(at + j, act.eval(round(z.get(at + j) * a + b), 0, beta));
            }
        }

        static void affineActBackward(Buf go, Buf z, Buf dz, int at, int s, double a, double b, Activation act, double beta) {
            if (dz == null) {
                return;
            }
            if (dz.f != null && act == Activation.RELU) {
                float af = (float) a, bf = (float) b;
                float[] zf = z.f, gof = go.f, dzf = dz.f;
                int zo = z.off + at, goo = go.off + at;
                for (int j = 0; j < s; j++) {
                    dzf[at + j] = zf[zo + j] * af + bf > 0 ? gof[goo + j] * af : 0f;
                }
                return;
            }
            for (int j = 0; j < s; j++) {
                double u = dz.round(z.get(at + j) * a + b);
                dz.set(at + j, go.get(at + j) * a * act.eval(u, 1, beta));
            }
        }

        void splitAct(Buf z, Buf p, int at, int s, double g, double a, double b, Activation act, double beta) {
            if (f != null && act == Activation.RELU) {
                float gf = (float) g, af = (float) a, bf = (float) b;
                float[] zf = z.f, pf = p.f;
                int zo = z.off + at, po = p.off + at;
                for (int j = 0; j < s; j++) {
                    float zv = zf[zo + j], pv = pf[po + j] * gf;
                    f[at + j] = (Math.max(0f, (zv + pv) * af + bf) + Math.max(0f, (zv - pv) * af + bf)) * 0.5f;
                }
                return;
            }
            for (int j = 0; j < s; j++) {
                double zv = z.get(at + j), pv = round(p.get(at + j) * g);
                double u1 = round(round(zv + pv) * a + b), u2 = round(round(zv - pv) * a + b);
                set(at + j, 0.5 * (round(act.eval(u1, 0, beta)) + round(act.eval(u2, 0, beta))));
            }
        }

        /** Returns this block's contribution to the gate's gradient. */
        static double splitActBackward(Buf go, Buf z, Buf p, Buf dz, Buf dp, int at, int s, double g, double a, double b,
                                       Activation act, double beta) {
            double dg = 0;
            if (z.f != null && act == Activation.RELU) {
                float gf = (float) g, af = (float) a, bf = (float) b;
                float[] zf = z.f, pf = p.f, gof = go.f, dzf = dz == null ? null : dz.f, dpf = dp == null ? null : dp.f;
                int zo = z.off + at, po = p.off + at, goo = go.off + at;
                float acc = 0;
                for (int j = 0; j < s; j++) {
                    float zv = zf[zo + j], pr = pf[po + j], pv = pr * gf;
                    float d1 = (zv + pv) * af + bf > 0 ? 1f : 0f, d2 = (zv - pv) * af + bf > 0 ? 1f : 0f;
                    float h = 0.5f * gof[goo + j] * af;
                    float diff = h * (d1 - d2);
                    if (dzf != null) {
                        dzf[at + j] = h * (d1 + d2);
                    }
                    if (dpf != null) {
                        dpf[at + j] = diff * gf;
                    }
                    acc += diff * pr;
                }
                return acc;
            }
            for (int j = 0; j < s; j++) {
                double zv = z.get(at + j), pr = p.get(at + j), pv = z.round(pr * g);
                double u1 = z.round(z.round(zv + pv) * a + b), u2 = z.round(z.round(zv - pv) * a + b);
                double d1 = act.eval(u1, 1, beta), d2 = act.eval(u2, 1, beta);
                double h = 0.5 * go.get(at + j) * a;
                if (dz != null) {
                    dz.set(at + j, h * (d1 + d2));
                }
                double diff = h * (d1 - d2);
                if (dp != null) {
                    dp.set(at + j, diff * g);
                }
                dg += diff * pr;
            }
            return dg;
        }

        void gatedAct(Buf x, int at, int s, double a, double g, Activation act, double beta) {
            if (f != null && act == Activation.RELU) {
                float af = (float) a, gf = (float) g;
                float[] xf = x.f;
                int xo = x.off + at;
                for (int j = 0; j < s; j++) {
                    f[at + j] = Math.max(0f, xf[xo + j] * af) * gf;
                }
                return;
            }
            for (int j = 0; j < s; j++) {
                set(at + j, round(act.eval(round(x.get(at + j) * a), 0, beta)) * g);
            }
        }

        static double gatedActBackward(Buf go, Buf x, Buf dx, int at, int s, double a, double g, Activation act, double beta) {
            double dg = 0;
            if (x.f != null && act == Activation.RELU) {
                float af = (float) a, gf = (float) g, c = gf * af;
                float[] xf = x.f, gof = go.f, dxf = dx == null ? null : dx.f;
                int xo = x.off + at, goo = go.off + at;
                float acc = 0;
                for (int j = 0; j < s; j++) {
                    float u = xf[xo + j] * af, gv = gof[goo + j];
                    boolean on = u > 0;
                    if (dxf != null) {
                        dxf[at + j] = on ? gv * c : 0f;
                    }
                    acc += on ? gv * u : 0f;
                }
                return acc;
            }
            for (int j = 0; j < s; j++) {
                double u = x.round(x.get(at + j) * a), gv = go.get(at + j);
                if (dx != null) {
                    dx.set(at + j, gv * g * a * act.eval(u, 1, beta));
                }
                dg += gv * x.round(act.eval(u, 0, beta));
            }
            return dg;
        }

        /** A value as this buffer's precision stores it (f32 rounding for f32). */
        double round(double v) {
            return f != null ? (float) v : v;
        }
    }
}
