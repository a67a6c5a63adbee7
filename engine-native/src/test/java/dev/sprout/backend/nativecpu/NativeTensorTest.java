package dev.sprout.backend.nativecpu;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Backends;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native tensors and their scopes: products and activations on off-heap memory against the same work on heap tensors
 * through the Java backend (the reference), release by scope and by hand, and refusal (an exception, never a crash)
 * of released memory, mismatched shapes and dtypes, and an output that aliases an input.
 */
class NativeTensorTest {
    /** Relative tolerance of an f32 product of depth k against the Java reference (different summation order). */
    private static double tol(DType dt, int k) {
        return (dt == DType.F32 ? 4e-6 : 1e-14) * Math.sqrt(k + 1) * 4;
    }

    private static Tensor reference(Tensor a, boolean ta, Tensor b, boolean tb) {
        dev.sprout.backend.Backend prev = Backends.current();
        Backends.use(new JavaBackend(1));
        try {
            return (ta ? a.transpose(-1, -2) : a).matmul(tb ? b.transpose(-1, -2) : b);
        } finally {
            Backends.use(prev);
        }
    }

    private static void assertClose(Tensor want, Tensor got, double tol, String what) {
        assertEquals(want.shape(), got.shape(), what);
        double[] w = want.contiguous().toDoubleArray(), g = got.toDoubleArray();
        double scale = 0;
        for (double v : w) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < w.length; i++) {
            assertEquals(w[i], g[i], tol * Math.max(1, scale), what + " at " + i);
        }
    }

    @TestFactory
    List<DynamicTest> productsOnNativeMemoryMatchTheJavaBackend() {
        return NativeKernelsTest.perIsa("native tensor matmul", nb -> {
            Rng r = new Rng(5);
            int[][] sizes = {{1, 1, 1}, {15, 33, 257}, {64, 70, 31}, {129, 40, 65}};
            try (NativeScope scope = NativeScope.open("test")) {
                for (DType dt : new DType[] {DType.F32, DType.F64}) {
                    for (int[] s : sizes) {
                        int m = s[0], n = s[1], k = s[2];
                        for (int t = 0; t < 4; t++) {
                            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                            Tensor a = Tensor.randn(r, dt, 1.0, ta ? k : m, ta ? m : k);
                            Tensor b = Tensor.randn(r, dt, 1.0, tb ? n : k, tb ? k : n);
                            NativeTensor na = scope.copyOf(a), nbt = scope.copyOf(b), nc = scope.allocate(dt, m, n);
                            nb.matmul(na, ta, nbt, tb, nc, 1.0, 0.0);
                            String what = dt + " " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb;
                            assertClose(reference(a, ta, b, tb), nc.toTensor(), tol(dt, k), what);
                            // alpha and beta: C = 2 AB - C
                            Tensor before = nc.toTensor();
                            nb.matmul(na, ta, nbt, tb, nc, 2.0, -1.0);
                            assertClose(reference(a, ta, b, tb).mul(2.0).sub(before), nc.toTensor(), 2 * tol(dt, k), what + " alpha/beta");
                        }
                    }
                    // batched, with B broadcast over the batch
                    Tensor a = Tensor.randn(r, dt, 1.0, 3, 17, 40), b = Tensor.randn(r, dt, 1.0, 40, 9);
                    NativeTensor nc = scope.allocate(dt, 3, 17, 9);
                    nb.matmul(scope.copyOf(a), false, scope.copyOf(b), false, nc, 1.0, 0.0);
                    assertClose(reference(a, false, b, false), nc.toTensor(), tol(dt, 40), dt + " batched");
                }
                assertTrue(scope.bytes() > 0);
            }
        });
    }

    @TestFactory
    List<DynamicTest> activationsOnNativeMemoryMatchTheHeapKernel() {
        return NativeKernelsTest.perIsa("native tensor activation", nb -> {
            Rng r = new Rng(6);
            try (NativeScope scope = NativeScope.open("act")) {
                for (DType dt : new DType[] {DType.F32, DType.F64}) {
                    Tensor x = Tensor.randn(r, dt, 2.0, 7, 37);
                    for (Activation f : new Activation[] {Activation.RELU, Activation.TANH, Activation.SOFTPLUS}) {
                        for (int order = 0; order <= 2; order++) {
                            NativeTensor nx = scope.copyOf(x), ny = scope.allocate(dt, 7, 37);
                            nb.activation(f, order, 3.0, nx, ny);
                            Tensor want = Tensor.zeros(dt, 7, 37);
                            if (dt == DType.F32) {
                                nb.activation(f, order, 3f, x.contiguousData().storage().floats(), 0, want.storage().floats(), 0, x.numel());
                            } else {
                                nb.activation(f, order, 3.0, x.contiguousData().storage().doubles(), 0, want.storage().doubles(), 0, x.numel());
                            }
                            assertClose(want, ny.toTensor(), 0.0, dt + " " + f + " order " + order);
                            nb.activation(f, order, 3.0, nx, nx); // in place
                            assertClose(want, nx.toTensor(), 0.0, dt + " " + f + " order " + order + " in place");
                        }
                    }
                }
            }
        });
    }

    @TestFactory
    List<DynamicTest> releasedMemoryIsRefusedWithItsNameAndNothingCrashes() {
        return NativeKernelsTest.perIsa("released native tensors", nb -> {
            NativeScope scope = NativeScope.open("layer1");
            NativeTensor a = scope.allocate(DType.F32, 4, 5), b = scope.allocate(DType.F32, 5, 6), c = scope.allocate(DType.F32, 4, 6);
            assertEquals(4L * (20 + 30 + 24), scope.bytes());
            b.close(); // early release of one tensor
            assertFalse(b.isOpen());
            assertEquals(4L * (20 + 24), scope.bytes());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> nb.matmul(a, false, b, false, c, 1, 0));
            assertEquals("matmul: f32[5, 6] of native scope 'layer1' was released (its scope closed or close() was called)",
                    e.getMessage());
            b.close(); // twice: nothing
            scope.close();
            assertFalse(scope.isOpen() || a.isOpen() || c.isOpen());
            assertEquals(0, scope.bytes());
            assertThrows(IllegalStateException.class, a::toTensor);
            assertThrows(IllegalStateException.class, () -> c.copyFrom(Tensor.zeros(DType.F32, 4, 6)));
            assertThrows(IllegalStateException.class, () -> nb.activation(Activation.TANH, 0, 1, a, a));
            e = assertThrows(IllegalStateException.class, () -> scope.allocate(DType.F32, 2));
            assertTrue(e.getMessage().startsWith("native scope 'layer1' is closed"), e.getMessage());
            scope.close(); // twice: nothing
        });
    }

    @TestFactory
    List<DynamicTest> wrongShapesDtypesAndAliasingAreRefusedBeforeTheNativeCall() {
        return NativeKernelsTest.perIsa("bad native tensor operands", nb -> {
            try (NativeScope scope = NativeScope.open("bad")) {
                NativeTensor a = scope.allocate(DType.F32, 4, 5), b = scope.allocate(DType.F32, 5, 6), c = scope.allocate(DType.F32, 4, 6);
                List<Runnable> bad = new ArrayList<>();
                bad.add(() -> nb.matmul(a, false, b, true, c, 1, 0));                                 // inner dims
                bad.add(() -> nb.matmul(a, false, b, false, scope.allocate(DType.F32, 4, 7), 1, 0));  // C shape
                bad.add(() -> nb.matmul(a, false, scope.allocate(DType.F64, 5, 6), false, c, 1, 0));  // dtype
                bad.add(() -> nb.matmul(a, false, b, false, scope.allocate(DType.F32, 4), 1, 0));     // rank
                bad.add(() -> nb.matmul(scope.allocate(DType.F32, 2, 4, 5), false, b, false, c, 1, 0)); // batch vs C
                bad.add(() -> nb.activation(Activation.TANH, 0, 1, a, c));                            // sizes
                bad.add(() -> nb.activation(Activation.TANH, 9, 1, a, a));                            // order
                NativeTensor sq = scope.allocate(DType.F32, 6, 6);
                bad.add(() -> nb.matmul(sq, false, sq, false, sq, 1, 0));                            // C aliases A, B
                for (int i = 0; i < bad.size(); i++) {
                    int idx = i;
                    RuntimeException e = assertThrows(RuntimeException.class, bad.get(i)::run, "case " + i);
                    assertTrue(e instanceof IllegalArgumentException || e instanceof IndexOutOfBoundsException,
                            "case " + idx + ": " + e);
                    assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), "case " + idx);
                }
                assertThrows(IllegalArgumentException.class, () -> a.copyFrom(Tensor.zeros(DType.F32, 5, 4)));
                assertThrows(IllegalArgumentException.class, () -> scope.allocate(DType.C64, 2));
                // the operands are intact after all refusals
                assertEquals(0.0, a.toTensor().abs().sum().item());
            }
        });
    }
}
