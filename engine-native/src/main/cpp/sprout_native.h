// sprout_native.h - the C++ side of Sprout's native CPU backend, as JavaCPP includes it.
//
// Layout
//   sprout_native.h   this file: standard headers, the two ISA variants, and the entry points that Java binds
//                     (dev.sprout.backend.nativecpu.NativeKernels; one JNI function per entry point)
//   isa_body.h        one ISA variant: vector traits + all kernels; included twice, in namespace sprout::avx2
//                     and sprout::avx512, each inside its own "#pragma GCC target" region
//   gemm.h pointwise.h lowering.h eigen.h lu.h   the kernels, included by isa_body.h
//   sprout_cpuid.h    the CPU probe, built into a separate baseline (no-AVX) library
//
// ISA variants. The library is compiled with -O3 -mavx2 -mfma (chosen in engine-native/pom.xml), so it may only
// be loaded where the CPU has AVX2 and FMA; Java checks that (through the baseline CpuId library) before loading
// it. The AVX-512 variant is compiled in a "#pragma GCC target" region in the same translation unit; its code is
// reached only through the entry points with isa == 512, which Java passes only when the CPU (and OS) support
// AVX512F/DQ/BW/VL. Nothing outside that region uses AVX-512 instructions.
//
// Safety. Every entry point trusts its arguments: sizes, offsets, leading dimensions and strides are checked in
// Java (dev.sprout.backend.Checks) before the call. Arrays arrive pinned (JNI GetPrimitiveArrayCritical), so
// kernels never call back into the JVM. Scratch memory comes from operator new; an allocation failure is a C++
// exception that JavaCPP turns into a Java RuntimeException.
#pragma once

#include <immintrin.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <numeric>
#include <vector>

namespace sprout {

// Owned, 64-byte aligned scratch memory.
template <typename T>
struct Scratch {
    T* p = nullptr;
    size_t n = 0;
    Scratch() {}
    explicit Scratch(size_t count) { reserve(count); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    ~Scratch() { std::free(p); }
    T* reserve(size_t count) {
        if (count > n) {
            std::free(p);
            p = nullptr;
            n = 0;
            size_t bytes = ((count * sizeof(T)) + 63) / 64 * 64;
            p = static_cast<T*>(std::aligned_alloc(64, bytes == 0 ? 64 : bytes));
            if (p == nullptr) throw std::bad_alloc();
            n = count;
        }
        return p;
    }
};

// Polynomial tables of the activation derivatives (see Activation.java): built once, ISA independent.
struct ActivationTables {
    static constexpr int MAX_ORDER = 6;
    std::vector<double> tanhP[MAX_ORDER + 1], sigmoidP[MAX_ORDER + 1], rbfP[MAX_ORDER + 1];

    static void build(std::vector<double>* t, std::vector<double> p0, const std::vector<double>* factor) {
        t[0] = p0;
        for (int k = 0; k < MAX_ORDER; k++) {
            const std::vector<double>& p = t[k];
            std::vector<double> dp(std::max<size_t>(1, p.size() - 1), 0.0);
            for (size_t i = 1; i < p.size(); i++) dp[i - 1] = i * p[i];
            std::vector<double> next;
            if (factor == nullptr) {  // rbf: R' - x R
                next.assign(p.size() + 1, 0.0);
                for (size_t i = 0; i < dp.size(); i++) next[i] += dp[i];
                for (size_t i = 0; i < p.size(); i++) next[i + 1] -= p[i];
            } else {  // P' * factor
                next.assign(dp.size() + factor->size() - 1, 0.0);
                for (size_t i = 0; i < dp.size(); i++)
                    for (size_t j = 0; j < factor->size(); j++) next[i + j] += dp[i] * (*factor)[j];
            }
            t[k + 1] = next;
        }
    }

    ActivationTables() {
        std::vector<double> tf = {1, 0, -1}, sf = {0, 1, -1};
        build(tanhP, {0, 1}, &tf);
        build(sigmoidP, {0, 1}, &sf);
        build(rbfP, {1}, nullptr);
    }

    static const ActivationTables& get() {
        static const ActivationTables t;
        return t;
    }
};

} // namespace sprout

// ------------------------------------------------------------------------------------------ the two variants

#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace sprout { namespace avx2 {
#define SPROUT_ISA_BITS 256
#include "isa_body.h"
#undef SPROUT_ISA_BITS
} }
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl")
// GCC 12 warns inside its own _mm512_reduce_add_* (the "__Y = __Y" idiom of _mm256_undefined_*): a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
namespace sprout { namespace avx512 {
#define SPROUT_ISA_BITS 512
#include "isa_body.h"
#undef SPROUT_ISA_BITS
} }
#pragma GCC diagnostic pop
#pragma GCC pop_options

// ------------------------------------------------------------------------------------------ entry points
// isa: 256 (AVX2 + FMA) or 512 (AVX-512). Offsets are in elements of the array (floats/doubles, so complex offsets
// arrive doubled). Trans codes: 0 = N, 1 = T, 2 = H (conjugate transpose; T for real data).

#define SPROUT_DISPATCH(isa, call) ((isa) == 512 ? sprout::avx512::call : sprout::avx2::call)

namespace sprout {

inline int isaCompiled() { return 256 | 512; }

inline void sgemm(int isa, int ta, int tb, int m, int n, int k, float alpha, const float* a, long long aOff, int lda,
                  long long strideA, const float* b, long long bOff, int ldb, long long strideB, float beta, float* c,
                  long long cOff, int ldc, long long strideC, int batch) {
    SPROUT_DISPATCH(isa, gemmBatch<float>(ta != 0, tb != 0, m, n, k, alpha, a + aOff, lda, strideA, b + bOff, ldb,
                                          strideB, beta, c + cOff, ldc, strideC, batch));
}

inline void dgemm(int isa, int ta, int tb, int m, int n, int k, double alpha, const double* a, long long aOff, int lda,
                  long long strideA, const double* b, long long bOff, int ldb, long long strideB, double beta,
                  double* c, long long cOff, int ldc, long long strideC, int batch) {
    SPROUT_DISPATCH(isa, gemmBatch<double>(ta != 0, tb != 0, m, n, k, alpha, a + aOff, lda, strideA, b + bOff, ldb,
                                           strideB, beta, c + cOff, ldc, strideC, batch));
}

// sgemm / dgemm that also tell whether every element of C they wrote is finite (true: no NaN, no infinity),
// each tile folded into the check from the registers as it is stored (gemm.h, gemmOne and gemmMicro's CHECK).
inline bool sgemmFinite(int isa, int ta, int tb, int m, int n, int k, float alpha, const float* a, long long aOff,
                        int lda, long long strideA, const float* b, long long bOff, int ldb, long long strideB,
                        float beta, float* c, long long cOff, int ldc, long long strideC, int batch) {
    bool bad = false;
    SPROUT_DISPATCH(isa, gemmBatch<float>(ta != 0, tb != 0, m, n, k, alpha, a + aOff, lda, strideA, b + bOff, ldb,
                                          strideB, beta, c + cOff, ldc, strideC, batch, &bad));
    return !bad;
}

inline bool dgemmFinite(int isa, int ta, int tb, int m, int n, int k, double alpha, const double* a, long long aOff,
                        int lda, long long strideA, const double* b, long long bOff, int ldb, long long strideB,
                        double beta, double* c, long long cOff, int ldc, long long strideC, int batch) {
    bool bad = false;
    SPROUT_DISPATCH(isa, gemmBatch<double>(ta != 0, tb != 0, m, n, k, alpha, a + aOff, lda, strideA, b + bOff, ldb,
                                           strideB, beta, c + cOff, ldc, strideC, batch, &bad));
    return !bad;
}

inline void cgemm(int isa, int ta, int tb, int m, int n, int k, float alphaRe, float alphaIm, const float* a,
                  long long aOff, int lda, long long strideA, const float* b, long long bOff, int ldb,
                  long long strideB, float betaRe, float betaIm, float* c, long long cOff, int ldc, long long strideC,
                  int batch) {
    SPROUT_DISPATCH(isa, cgemmBatch(ta, tb, m, n, k, alphaRe, alphaIm, a + aOff, lda, strideA, b + bOff, ldb, strideB,
                                    betaRe, betaIm, c + cOff, ldc, strideC, batch));
}

inline void activationF32(int isa, int f, int order, float beta, const float* x, long long xOff, float* y,
                          long long yOff, int n) {
    SPROUT_DISPATCH(isa, activation<float>(f, order, beta, x + xOff, y + yOff, n));
}

inline void activationF64(int isa, int f, int order, double beta, const double* x, long long xOff, double* y,
                          long long yOff, int n) {
    SPROUT_DISPATCH(isa, activation<double>(f, order, beta, x + xOff, y + yOff, n));
}

inline bool allFiniteF32(int isa, const float* x, long long xOff, long long n) {
    return SPROUT_DISPATCH(isa, allFinite<float>(x + xOff, n));
}

inline bool allFiniteF64(int isa, const double* x, long long xOff, long long n) {
    return SPROUT_DISPATCH(isa, allFinite<double>(x + xOff, n));
}

inline void axpyF32(int isa, long long n, float alpha, const float* x, long long xOff, float* y, long long yOff) {
    SPROUT_DISPATCH(isa, axpy<float>(n, alpha, x + xOff, y + yOff));
}

inline void axpyF64(int isa, long long n, double alpha, const double* x, long long xOff, double* y, long long yOff) {
    SPROUT_DISPATCH(isa, axpy<double>(n, alpha, x + xOff, y + yOff));
}

inline void sumAxisF32(int isa, const float* x, long long xOff, int outer, int len, int inner, float* out,
                       long long outOff) {
    SPROUT_DISPATCH(isa, sumAxis<float>(x + xOff, outer, len, inner, out + outOff));
}

inline void sumAxisF64(int isa, const double* x, long long xOff, int outer, int len, int inner, double* out,
                       long long outOff) {
    SPROUT_DISPATCH(isa, sumAxis<double>(x + xOff, outer, len, inner, out + outOff));
}

inline void im2colF32(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, const float* x,
                      long long xOff, float* col, long long colOff) {
    SPROUT_DISPATCH(isa, im2col<float>(ch, h, w, kh, kw, sh, sw, ph, pw, x + xOff, col + colOff));
}

inline void im2colF64(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, const double* x,
                      long long xOff, double* col, long long colOff) {
    SPROUT_DISPATCH(isa, im2col<double>(ch, h, w, kh, kw, sh, sw, ph, pw, x + xOff, col + colOff));
}

inline void col2imF32(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, const float* col,
                      long long colOff, float* x, long long xOff) {
    SPROUT_DISPATCH(isa, col2im<float>(ch, h, w, kh, kw, sh, sw, ph, pw, col + colOff, x + xOff));
}

inline void col2imF64(int isa, int ch, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, const double* col,
                      long long colOff, double* x, long long xOff) {
    SPROUT_DISPATCH(isa, col2im<double>(ch, h, w, kh, kw, sh, sw, ph, pw, col + colOff, x + xOff));
}

inline void weightedGramF32(int isa, int samples, int d, int neuronFrom, int neuronTo, int neurons, const float* x,
                            long long xOff, const float* w, long long wOff, float* s, long long sOff) {
    SPROUT_DISPATCH(isa, weightedGram<float>(samples, d, neuronFrom, neuronTo, neurons, x + xOff, w + wOff, s + sOff));
}

inline void weightedGramF64(int isa, int samples, int d, int neuronFrom, int neuronTo, int neurons, const double* x,
                            long long xOff, const double* w, long long wOff, double* s, long long sOff) {
    SPROUT_DISPATCH(isa, weightedGram<double>(samples, d, neuronFrom, neuronTo, neurons, x + xOff, w + wOff, s + sOff));
}

// Returns 0, or 1 + the index of the first matrix whose QL iteration did not converge.
inline int symEigF32(int isa, int batch, int n, int k, const float* a, long long aOff, float* w, long long wOff,
                     float* v, long long vOff) {
    return SPROUT_DISPATCH(isa, symEigBatch<float>(batch, n, k, a + aOff, w + wOff, v == nullptr ? nullptr : v + vOff));
}

inline int symEigF64(int isa, int batch, int n, int k, const double* a, long long aOff, double* w, long long wOff,
                     double* v, long long vOff) {
    return SPROUT_DISPATCH(isa, symEigBatch<double>(batch, n, k, a + aOff, w + wOff, v == nullptr ? nullptr : v + vOff));
}

inline int gesvF32(int isa, int n, int nrhs, float* a, long long aOff, float* b, long long bOff) {
    return SPROUT_DISPATCH(isa, gesv<float>(n, nrhs, a + aOff, b + bOff));
}

inline int gesvF64(int isa, int n, int nrhs, double* a, long long aOff, double* b, long long bOff) {
    return SPROUT_DISPATCH(isa, gesv<double>(n, nrhs, a + aOff, b + bOff));
}

inline int cgesv(int isa, int n, int nrhs, float* a, long long aOff, float* b, long long bOff) {
    return SPROUT_DISPATCH(isa, cgesv(n, nrhs, a + aOff, b + bOff));
}

} // namespace sprout
