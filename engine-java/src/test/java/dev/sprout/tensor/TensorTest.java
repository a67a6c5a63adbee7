package dev.sprout.tensor;

import dev.sprout.autograd.Ops;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tensors: creation, views, broadcasting, reductions, indexing; exact known answers on small integers. */
class TensorTest {

    private static Tensor m23() {
        return Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
    }

    @Test
    void creationAndMetadata() {
        Tensor z = Tensor.zeros(DType.F64, 2, 3);
        assertEquals(Shape.of(2, 3), z.shape());
        assertArrayEquals(new int[] {3, 1}, z.strides());
        assertEquals(DType.F64, z.dtype());
        assertEquals(6, Tensor.ones(DType.F32, 2, 3).sum().item());
        assertArrayEquals(new float[] {0, 1, 2, 3}, Tensor.arange(4).toFloatArray());
        assertArrayEquals(new double[] {1, 1.5, 2, 2.5}, Tensor.arange(DType.F64, 1, 3, 0.5).toDoubleArray());
        assertEquals(7.5, Tensor.full(DType.F32, 2.5, 3).sum().item());
        assertEquals(Shape.scalar(), Tensor.scalar(DType.F32, 1).shape());
        assertThrows(ShapeException.class, () -> Tensor.of(new float[] {1, 2, 3}, 2, 2));
        assertEquals("f32[2, 3]", m23().describe());
    }

    @Test
    void seededRandomIsReproducibleBitForBitAndSplitsIndependently() {
        Tensor a = Tensor.randn(new Rng(42), 100), b = Tensor.randn(new Rng(42), 100);
        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        Rng r = new Rng(42);
        Rng child = r.split();
        Tensor c = Tensor.randn(child, 100), d = Tensor.randn(r, 100);
        assertFalse(java.util.Arrays.equals(c.toFloatArray(), d.toFloatArray()));
        // moments of 20000 normals: mean within 4 sigma/sqrt(n), variance within 5%
        Tensor big = Tensor.randn(new Rng(7), DType.F64, 1.0, 20000);
        double mean = big.mean().item(), var = big.mul(big).mean().item() - mean * mean;
        assertEquals(0, mean, 4 / Math.sqrt(20000));
        assertEquals(1, var, 0.05);
        Tensor u = Tensor.rand(new Rng(8), DType.F64, -2, 3, 1000);
        for (int i = 0; i < u.numel(); i++) {
            assertTrue(u.getFlat(i) >= -2 && u.getFlat(i) < 3);
        }
    }

    @Test
    void viewsShareStorage() {
        Tensor m = m23();
        Tensor t = m.transpose(0, 1);
        assertSame(m.storage(), t.storage());
        assertFalse(t.isContiguous());
        assertEquals(Shape.of(3, 2), t.shape());
        assertEquals(4, t.get(0, 1));
        Tensor s = m.slice(1, 1, 3);
        assertSame(m.storage(), s.storage());
        assertArrayEquals(new float[] {2, 3, 5, 6}, s.toFloatArray());
        Tensor r = m.reshape(3, 2);
        assertSame(m.storage(), r.storage());
        assertArrayEquals(new int[] {3, 2}, r.shape().toArray());
        Tensor rr = m.reshape(-1);
        assertEquals(Shape.of(6), rr.shape());
        // reshape of a non-contiguous view must copy, and keep row-major order of the view
        Tensor tr = t.reshape(6);
        assertNotSame(m.storage(), tr.storage());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, tr.toFloatArray());
        Tensor c = t.contiguous();
        assertTrue(c.isContiguous());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, c.toFloatArray());
        Tensor p = Tensor.arange(DType.F32, 0, 24, 1).reshape(2, 3, 4).permute(2, 0, 1);
        assertEquals(Shape.of(4, 2, 3), p.shape());
        assertEquals(1 * 12 + 2 * 4 + 3, p.get(3, 1, 2));
        Tensor e = Tensor.of(new float[] {1, 2, 3}, 3, 1).expand(3, 4);
        assertEquals(0, e.stride(1));
        assertEquals(12 + 24 + 36, e.sum().item() * 3, 1e-9);
        assertThrows(ShapeException.class, () -> m.reshape(4, 2));
        assertThrows(ShapeException.class, () -> m.slice(1, 2, 5));
    }

    @Test
    void reshapeIsAViewWheneverStridesAllow() {
        Tensor base = Tensor.arange(DType.F32, 0, 24, 1).reshape(2, 3, 4);
        Tensor p = base.permute(1, 0, 2);                     // [3, 2, 4], last axis still contiguous
        Tensor split = p.reshape(3, 2, 2, 2);                 // splits the contiguous last axis: a view
        assertSame(base.storage(), split.storage());
        Tensor merged = base.slice(2, 0, 2).reshape(6, 2);    // merges two outer axes of a sliced view: a view
        assertSame(base.storage(), merged.storage());
        assertArrayEquals(new float[] {0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21}, merged.toFloatArray());
        Tensor unsq = base.transpose(0, 2).reshape(4, 1, 3, 2, 1);  // only size-1 axes added: a view
        assertSame(base.storage(), unsq.storage());
        assertArrayEquals(base.transpose(0, 2).contiguous().toFloatArray(), unsq.toFloatArray());
        Tensor needsCopy = base.transpose(1, 2).reshape(2, 12); // merging non-adjacent-in-memory axes copies
        assertNotSame(base.storage(), needsCopy.storage());
        assertArrayEquals(base.transpose(1, 2).contiguous().toFloatArray(), needsCopy.toFloatArray());
        // every reshape, view or copy, keeps the row-major order of the elements
        int[][] shapes = {{24}, {4, 6}, {2, 2, 6}, {3, 8}, {1, 24, 1}};
        for (Tensor t : new Tensor[] {base, p, base.transpose(0, 2), base.slice(1, 1, 3).reshape(2, 8)}) {
            for (int[] sh : shapes) {
                if (Shape.of(sh).numel() != t.numel()) {
                    continue;
                }
                assertArrayEquals(t.contiguous().toFloatArray(), t.reshape(sh).toFloatArray(), t + " -> " + Shape.of(sh));
            }
        }
    }

    @Test
    void broadcastingArithmetic() {
        Tensor m = m23();
        Tensor row = Tensor.of(new float[] {10, 20, 30});
        Tensor col = Tensor.of(new float[] {1, 2}, 2, 1);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, m.add(row).toFloatArray());
        assertArrayEquals(new float[] {0, 1, 2, 2, 3, 4}, m.sub(col).toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 8, 10, 12}, m.mul(col).toFloatArray());
        assertArrayEquals(new float[] {0.5f, 1, 1.5f, 2, 2.5f, 3}, m.div(2).toFloatArray());
        assertArrayEquals(new float[] {11, 21, 31, 12, 22, 32}, col.add(row).toFloatArray());
        // broadcasting a transposed (strided) operand
        Tensor sq = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
        assertArrayEquals(new float[] {2, 5, 5, 8}, sq.add(sq.transpose(0, 1)).toFloatArray());
        ShapeException e = assertThrows(ShapeException.class, () -> m.add(Tensor.zeros(2)));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2]"),
                e.getMessage());
        ShapeException d = assertThrows(ShapeException.class, () -> m.add(Tensor.zeros(DType.F64, 2, 3)));
        assertTrue(d.getMessage().contains("dtypes differ") && d.getMessage().contains("f64[2, 3]"), d.getMessage());
    }

    @Test
    void reductions() {
        Tensor m = m23();
        assertEquals(21, m.sum().item());
        assertArrayEquals(new float[] {5, 7, 9}, m.sum(0, false).toFloatArray());
        assertArrayEquals(new float[] {6, 15}, m.sum(1, false).toFloatArray());
        assertEquals(Shape.of(2, 1), m.sum(1, true).shape());
        assertArrayEquals(new float[] {2, 5}, m.mean(1, false).toFloatArray());
        Tensor x = Tensor.of(new float[] {3, 9, 1, 7, 2, 8}, 2, 3);
        assertArrayEquals(new float[] {9, 8}, x.max(1, false).toFloatArray());
        assertArrayEquals(new int[] {1, 2}, x.argmax(1).toArray());
        assertArrayEquals(new int[] {1, 0, 1}, x.argmax(0).toArray());
        assertArrayEquals(new float[] {21}, Ops.sum(m, new int[] {0, 1}, false).toFloatArray());
        // sum of a transposed view
        assertArrayEquals(new float[] {6, 15}, m.transpose(0, 1).sum(0, false).toFloatArray());
        assertThrows(ShapeException.class, () -> Ops.sum(m, new int[] {1, 1}, false));
        assertThrows(IllegalArgumentException.class, () -> m.sum(2, false));
    }

    @Test
    void matmulBatchedWithTransposesAndBroadcast() {
        Tensor a = m23();                                     // 2x3
        Tensor b = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
        assertArrayEquals(new float[] {4, 5, 10, 11}, a.matmul(b).toFloatArray());
        // transposed views go to gemm as transposed operands
        assertArrayEquals(new float[] {14, 32, 32, 77}, a.matmul(a.transpose(0, 1)).toFloatArray());
        assertArrayEquals(new float[] {17, 22, 27, 22, 29, 36, 27, 36, 45}, a.transpose(0, 1).matmul(a).toFloatArray());
        // batch [2] x single matrix, broadcast
        Tensor batch = Tensor.arange(DType.F32, 0, 12, 1).reshape(2, 2, 3);
        Tensor out = batch.matmul(b);
        assertEquals(Shape.of(2, 2, 2), out.shape());
        assertArrayEquals(new float[] {2, 3, 8, 9, 14, 15, 20, 21}, out.toFloatArray());
        // [2,1,2,3] @ [3,3,2] broadcasts to [2,3,2,2]
        Tensor b3 = Tensor.arange(DType.F32, 0, 18, 1).reshape(3, 3, 2);
        Tensor o4 = batch.reshape(2, 1, 2, 3).matmul(b3);
        assertEquals(Shape.of(2, 3, 2, 2), o4.shape());
        Tensor ref = batch.slice(0, 1, 2).reshape(2, 3).matmul(b3.slice(0, 2, 3).reshape(3, 2));
        assertArrayEquals(ref.toFloatArray(), o4.slice(0, 1, 2).slice(1, 2, 3).reshape(2, 2).toFloatArray());
        ShapeException e = assertThrows(ShapeException.class, () -> a.matmul(a));
        assertTrue(e.getMessage().contains("matmul") && e.getMessage().contains("f32[2, 3] @ f32[2, 3]"), e.getMessage());
        assertThrows(ShapeException.class, () -> a.matmul(Tensor.zeros(3)));
    }

    @Test
    void complexArithmeticAndMatmul() {
        Tensor a = Tensor.complex(new float[] {1, 2, 3, -1}, 2);     // [1+2i, 3-i]
        Tensor b = Tensor.complex(new float[] {0, 1, 2, 2}, 2);      // [i, 2+2i]
        assertArrayEquals(new float[] {1, 3, 5, 1}, Ops.add(a, b).toComplexArray());
        assertArrayEquals(new float[] {-2, 1, 8, 4}, Ops.mul(a, b).toComplexArray());
        assertArrayEquals(new float[] {2, -1, 0.5f, -1}, Ops.div(a, b).toComplexArray());
        // [1+2i, 3-i] (1x2) @ [i ; 2+2i] (2x1) = i(1+2i) + (3-i)(2+2i) = (-2+i) + (8+4i) = 6+5i
        Tensor p = a.reshape(1, 2).matmul(b.reshape(2, 1));
        assertArrayEquals(new float[] {6, 5}, p.toComplexArray());
        assertEquals(DType.C64, p.dtype());
        assertThrows(UnsupportedOperationException.class, () -> a.requiresGrad(true));
        assertThrows(ShapeException.class, () -> a.exp());
    }

    @Test
    void gatherScatterConcatWhereCompare() {
        Tensor m = m23();
        Index idx = Index.of(new int[] {2, 0, 1, 1}, 2, 2);
        assertArrayEquals(new float[] {3, 1, 5, 5}, m.gather(1, idx).toFloatArray());
        Tensor sc = Ops.scatterAdd(Tensor.zeros(2, 3), 1, idx, Tensor.ones(DType.F32, 2, 2));
        assertArrayEquals(new float[] {1, 0, 1, 0, 2, 0}, sc.toFloatArray());
        IndexOutOfBoundsException oob = assertThrows(IndexOutOfBoundsException.class,
                () -> m.gather(1, Index.of(new int[] {3, 0, 0, 0}, 2, 2)));
        assertTrue(oob.getMessage().contains("index value 3"), oob.getMessage());
        Tensor cat = Ops.concat(1, m, Tensor.of(new float[] {7, 8}, 2, 1));
        assertArrayEquals(new float[] {1, 2, 3, 7, 4, 5, 6, 8}, cat.toFloatArray());
        Tensor cat0 = Ops.concat(0, m, m.slice(0, 0, 1));
        assertEquals(Shape.of(3, 3), cat0.shape());
        ShapeException ce = assertThrows(ShapeException.class, () -> Ops.concat(1, m, Tensor.zeros(3, 1)));
        assertTrue(ce.getMessage().contains("concat"), ce.getMessage());
        Tensor three = Tensor.full(DType.F32, 3, 1);
        assertArrayEquals(new float[] {0, 0, 0, 1, 1, 1}, m.gt(three).toFloatArray());
        assertArrayEquals(new float[] {1, 1, 1, 0, 0, 0}, m.le(three).toFloatArray());
        assertArrayEquals(new float[] {0, 0, 1, 0, 0, 0}, m.eq(three).toFloatArray());
        Tensor w = Ops.where(m.gt(three), m, Tensor.zeros(1));
        assertArrayEquals(new float[] {0, 0, 0, 4, 5, 6}, w.toFloatArray());
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6},
                Ops.embed(m, Shape.of(4, 3), 0, 2).toFloatArray());
    }

    @Test
    void inPlaceOpsAndConversion() {
        Tensor m = m23();
        m.addScaled_(Tensor.ones(DType.F32, 2, 3), 2);
        assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8}, m.toFloatArray());
        m.scale_(0.5);
        assertEquals(16.5, m.sum().item(), 1e-6);
        m.slice(1, 0, 1).fill_(0);
        assertArrayEquals(new float[] {0, 2, 2.5f, 0, 3.5f, 4}, m.toFloatArray());
        Tensor d = m.to(DType.F64);
        assertEquals(DType.F64, d.dtype());
        assertArrayEquals(new double[] {0, 2, 2.5, 0, 3.5, 4}, d.toDoubleArray());
        Tensor c = m.to(DType.C64);
        assertArrayEquals(new float[] {2, 0}, c.getComplexFlat(1));
        assertThrows(ShapeException.class, () -> m.copy_(Tensor.zeros(3, 2)));
        assertThrows(ShapeException.class, () -> m.item());
    }
    /**
     * Copies of transposed views large enough for the tiled path (sizes off the 32-element tile), against the
     * element-by-element definition, f32 and f64, with batch axes, a sliced (padded) source and a strided target.
     */
    @Test
    void copiesOfLargeTransposedViewsMatchTheElementwiseDefinition() {
        Rng r = new Rng(9);
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            for (int[] dims : new int[][] {{70, 45}, {33, 97}, {3, 65, 40}, {2, 2, 31, 129}}) {
                Tensor x = Tensor.randn(r, dt, 1.0, dims);
                int k = dims.length;
                Tensor t = x.transpose(k - 2, k - 1);
                Tensor c = t.contiguous();
                assertTrue(c.isContiguous());
                assertEquals(t.shape(), c.shape());
                double[] want = new double[t.numel()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = t.getFlat(i);
                }
                assertArrayEquals(want, c.toDoubleArray(), 0.0, dt + " " + java.util.Arrays.toString(dims));
                // a sliced source (row stride larger than its width) copied into a strided (transposed) target
                Tensor sliced = x.slice(k - 1, 1, dims[k - 1] - 1).transpose(k - 2, k - 1);
                Tensor target = Tensor.zeros(dt, x.slice(k - 1, 1, dims[k - 1] - 1).shape().toArray());
                try (dev.sprout.autograd.Autograd.Scope ignored = dev.sprout.autograd.Autograd.noGrad()) {
                    target.transpose(k - 2, k - 1).copy_(sliced);
                }
                Tensor back = target.transpose(k - 2, k - 1);
                for (int i = 0; i < sliced.numel(); i++) {
                    assertEquals(sliced.getFlat(i), back.getFlat(i), 0.0, "sliced " + java.util.Arrays.toString(dims));
                }
            }
        }
    }
    /**
     * Elementwise add/sub/mul/div in every row layout the kernels distinguish (both unit-stride, a broadcast value
     * on either side, a strided operand) against the definition element by element, f32 and f64, on a row length
     * that straddles vector lanes (67).
     */
    @Test
    void binaryOpsMatchTheDefinitionInEveryRowLayout() {
        Rng r = new Rng(21);
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor a = Tensor.rand(r, dt, 0.5, 2, 2, 3, 67), b = Tensor.rand(r, dt, 0.5, 2, 2, 3, 67);
            Tensor col = Tensor.rand(r, dt, 0.5, 2, 2, 3, 1), t = Tensor.rand(r, dt, 0.5, 2, 2, 67, 3).transpose(1, 2);
            Tensor[][] pairs = {{a, b}, {a, col}, {col, a}, {t, a}, {a, t}, {a, Tensor.scalar(dt, 1.75)}, {Tensor.scalar(dt, 1.75), b}};
            for (Tensor[] p : pairs) {
                Tensor x = p[0], y = p[1];
                Tensor[] got = {x.add(y), x.sub(y), x.mul(y), x.div(y)};
                Shape out = Shape.broadcast("test", x.shape(), y.shape());
                Tensor xe = x.expand(out.toArray()), ye = y.expand(out.toArray());
                for (int i = 0; i < out.numel(); i++) {
                    double u = xe.getFlat(i), v = ye.getFlat(i);
                    double[] want = {u + v, u - v, u * v, u / v};
                    for (int o = 0; o < 4; o++) {
                        double w = want[o];
                        if (dt == DType.F32) {
                            w = switch (o) { case 0 -> (float) u + (float) v; case 1 -> (float) u - (float) v;
                                case 2 -> (float) u * (float) v; default -> (float) u / (float) v; };
                        }
                        assertEquals(w, got[o].getFlat(i), 0.0, dt + " op " + o + " " + x.describe() + " with " + y.describe() + " at " + i);
                    }
                }
            }
        }
    }
    /** dot: f32 over a million elements within a few ulps of the exact (double) sum, f64 exact on integers. */
    @Test
    void dotOfLongVectorsIsAccurate() {
        Rng r = new Rng(31);
        Tensor a = Tensor.randn(r, DType.F32, 1.0, 1_000_003), b = Tensor.randn(r, DType.F32, 1.0, 1_000_003);
        float[] x = a.toFloatArray(), y = b.toFloatArray();
        double exact = 0, abs = 0;
        for (int i = 0; i < x.length; i++) {
            exact += (double) x[i] * y[i];
            abs += Math.abs((double) x[i] * y[i]);
        }
        Tensor d = a.dot(b);
        assertEquals(Shape.scalar(), d.shape());
        assertEquals(exact, d.item(), 64 * Math.ulp(1.0f) * abs / Math.sqrt(x.length) + 1e-3);
        Tensor i1 = Tensor.arange(DType.F64, 0, 10, 1), i2 = Tensor.arange(DType.F64, 1, 11, 1);
        assertEquals(330.0, i1.dot(i2).item(), 0.0);
        assertEquals(330.0, i1.reshape(2, 5).transpose(0, 1).dot(i2.reshape(2, 5).transpose(0, 1)).item(), 0.0);
        assertThrows(ShapeException.class, () -> i1.dot(i2.reshape(2, 5)));
    }
}
