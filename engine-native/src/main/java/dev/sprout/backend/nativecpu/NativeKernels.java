package dev.sprout.backend.nativecpu;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JNI binding of the C++ kernels ({@code src/main/cpp/sprout_native.h}), built by the JavaCPP Maven plugin into
 * {@code libjniNativeKernels.so} with {@code g++ -O3 -mavx2 -mfma} (the {@code sproutavx2} compiler option, defined in
 * {@code engine-native/pom.xml}); the AVX-512 variant of every kernel is compiled into the same library under
 * {@code #pragma GCC target} and selected per call by {@code isa} (256 or 512).
 *
 * <p><b>Never call this class directly.</b> Its static initializer loads a library that executes AVX2 instructions;
 * {@link NativeLibrary} loads it only after {@link CpuFeatures} has confirmed AVX2 and FMA, and
 * {@link NativeBackend} checks every size, offset and bound before each call (the C++ side trusts them).
 *
 * <p>Arrays are pinned, not copied ({@link CriticalRegion}: JNI {@code GetPrimitiveArrayCritical}); the kernels make
 * no JNI calls while they hold them. Offsets are in array slots (for complex data: twice the complex offset);
 * complex strides and leading dimensions are in complex elements. Trans codes: 0 = N, 1 = T, 2 = H.
 */
@Platform(include = "sprout_native.h", compiler = {"cpp17", "sproutavx2"})
@Namespace("sprout")
@CriticalRegion
final class NativeKernels {
    static {
        Loader.load();
    }

    private NativeKernels() {
    }

    /** Bit set of the ISA variants compiled in (256 | 512). */
    static native int isaCompiled();

    static native void sgemm(int isa, int ta, int tb, int m, int n, int k, float alpha, float[] a, long aOff, int lda,
                             long strideA, float[] b, long bOff, int ldb, long strideB, float beta, float[] c, long cOff,
                             int ldc, long strideC, int batch);

    static native void dgemm(int isa, int ta, int tb, int m, int n, int k, double alpha, double[] a, long aOff, int lda,
                             long strideA, double[] b, long bOff, int ldb, long strideB, double beta, double[] c, long cOff,
                             int ldc, long strideC, int batch);

    /** sgemm that also returns whether every element of C it wrote is finite (each tile checked from the registers as it is stored). */
    static native boolean sgemmFinite(int isa, int ta, int tb, int m, int n, int k, float alpha, float[] a, long aOff,
                                      int lda, long strideA, float[] b, long bOff, int ldb, long strideB, float beta,
                                      float[] c, long cOff, int ldc, long strideC, int batch);

    static native boolean dgemmFinite(int isa, int ta, int tb, int m, int n, int k, double alpha, double[] a, long aOff,
                                      int lda, long strideA, double[] b, long bOff, int ldb, long strideB, double beta,
                                      double[] c, long cOff, int ldc, long strideC, int batch);

    // the same C++ kernels on off-heap memory (NativeTensor): JavaCPP passes the pointer's address
    static native void sgemm(int isa, int ta, int tb, int m, int n, int k, float alpha, FloatPointer a, long aOff, int lda,
                             long strideA, FloatPointer b, long bOff, int ldb, long strideB, float beta, FloatPointer c,
                             long cOff, int ldc, long strideC, int batch);

    static native void dgemm(int isa, int ta, int tb, int m, int n, int k, double alpha, DoublePointer a, long aOff,
                             int lda, long strideA, DoublePointer b, long bOff, int ldb, long strideB, double beta,
                             DoublePointer c, long cOff, int ldc, long strideC, int batch);

    static native void activationF32(int isa, int f, int order, float beta, FloatPointer x, long xOff, FloatPointer y,
                                     long yOff, int n);

    static native void activationF64(int isa, int f, int order, double beta, DoublePointer x, long xOff, DoublePointer y,
                                     long yOff, int n);

    static native void cgemm(int isa, int ta, int tb, int m, int n, int k, float alphaRe, float alphaIm, float[] a,
                             long aOff, int lda, long strideA, float[] b, long bOff, int ldb, long strideB, float betaRe,
                             float betaIm, float[] c, long cOff, int ldc, long strideC, int batch);

    static native void activationF32(int isa, int f, int order, float beta, float[] x, long xOff, float[] y, long yOff,
                                     int n);

    static native void activationF64(int isa, int f, int order, double beta, double[] x, long xOff, double[] y,
                                     long yOff, int n);

    static native boolean allFiniteF32(int isa, float[] x, long xOff, long n);

    static native boolean allFiniteF64(int isa, double[] x, long xOff, long n);

    static native void axpyF32(int isa, long n, float alpha, float[] x, long xOff, float[] y, long yOff);

    static native void axpyF64(int isa, long n, double alpha, double[] x, long xOff, double[] y, long yOff);

    static native void sumAxisF32(int isa, float[] x, long xOff, int outer, int len, int inner, float[] out, long outOff);

    static native void sumAxisF64(int isa, double[] x, long xOff, int outer, int len, int inner, double[] out,
                                  long outOff);

    static native void im2colF32(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, float[] x,
                                 long xOff, float[] col, long colOff);

    static native void im2colF64(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                 double[] x, long xOff, double[] col, long colOff);

    static native void col2imF32(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                 float[] col, long colOff, float[] x, long xOff);

    static native void col2imF64(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                 double[] col, long colOff, double[] x, long xOff);

    static native void weightedGramF32(int isa, int samples, int d, int neuronFrom, int neuronTo, int neurons, float[] x,
                                       long xOff, float[] w, long wOff, float[] s, long sOff);

    static native void weightedGramF64(int isa, int samples, int d, int neuronFrom, int neuronTo, int neurons, double[] x,
                                       long xOff, double[] w, long wOff, double[] s, long sOff);

    /** @return 0, or 1 + the index (in this call's batch) of a matrix whose QL iteration did not converge */
    static native int symEigF32(int isa, int batch, int n, int k, float[] a, long aOff, float[] w, long wOff, float[] v,
                                long vOff);

    static native int symEigF64(int isa, int batch, int n, int k, double[] a, long aOff, double[] w, long wOff, double[] v,
                                long vOff);

    static native int gesvF32(int isa, int n, int nrhs, float[] a, long aOff, float[] b, long bOff);

    static native int gesvF64(int isa, int n, int nrhs, double[] a, long aOff, double[] b, long bOff);

    static native int cgesv(int isa, int n, int nrhs, float[] a, long aOff, float[] b, long bOff);
}
