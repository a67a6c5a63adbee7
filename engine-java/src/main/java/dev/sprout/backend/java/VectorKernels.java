package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

/**
 * Holder of the Vector API kernels: the only class outside the {@code Vector*F32/F64} kernels that names them.
 * Touch it only after {@link VectorProbe#available()} (its initialisation loads Vector API classes).
 */
final class VectorKernels {
    /** The production {@code vectorPacked} kernel with the default block sizes. */
    static final PackedGemm PACKED = blocked(PackedGemmF32.MC, PackedGemmF32.KC, PackedGemmF32.NC);

    private VectorKernels() {
    }

    /** A vector kernel with other block sizes (tests use tiny blocks to cross every block boundary). */
    static PackedGemm blocked(int mc, int kc, int nc) {
        return new PackedGemm(GemmVariants.VECTOR_PACKED, 1.2e11,
                new PackedGemmF32(new VectorKernelF32(), mc, kc, nc), new PackedGemmF64(new VectorKernelF64(), mc, kc, nc));
    }

    static String describe() {
        return "Vector API " + VectorKernelF32.MR + "x" + VectorKernelF32.NR + " f32 / " + VectorKernelF64.MR + "x"
                + VectorKernelF64.NR + " f64 tiles, " + VectorKernelF32.S.vectorBitSize() + "-bit vectors";
    }

    /** Loads the kernel classes and checks one small product (interpreted, so it is kept tiny). */
    static void selfTest() {
        float[] a = new float[2 * 9];
        float[] b = new float[2 * 3];
        float[] c = new float[9 * 3];
        for (int i = 0; i < a.length; i++) {
            a[i] = i + 1;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = i - 2;
        }
        // C (9x3) = A^T (9x2 from a 2x9) * B (2x3)
        PACKED.f32.gemm(Trans.T, Trans.N, 9, 3, 2, 1f, a, 0, 9, b, 0, 3, 0f, c, 0, 3);
        for (int i = 0; i < 9; i++) {
            for (int j = 0; j < 3; j++) {
                float want = a[i] * b[j] + a[9 + i] * b[3 + j];
                if (c[i * 3 + j] != want) {
                    throw new IllegalStateException("vector kernel self-test: C[" + i + "," + j + "] = " + c[i * 3 + j]
                            + ", expected " + want);
                }
            }
        }
    }
}
