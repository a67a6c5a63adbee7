// isa_body.h - one ISA variant of every kernel. Included by sprout_native.h inside namespace sprout::avx2 or
// sprout::avx512, within a "#pragma GCC target" region, with SPROUT_ISA_BITS = 256 or 512. Do not include it
// anywhere else (it has no include guard on purpose, and includes no standard headers: those are outside).

// ------------------------------------------------------------------------------------------ vector traits
// One SIMD register of T: L lanes, and the handful of operations the kernels use.

template <typename T>
struct Vec;

#if SPROUT_ISA_BITS == 512
static constexpr const char* ISA_NAME = "avx512";
template <>
struct Vec<float> {
    typedef float T;
    typedef __m512 V;
    static constexpr int L = 16;
    static inline V zero() { return _mm512_setzero_ps(); }
    static inline V load(const T* p) { return _mm512_loadu_ps(p); }
    static inline void store(T* p, V v) { _mm512_storeu_ps(p, v); }
    static inline V set1(T x) { return _mm512_set1_ps(x); }
    static inline V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static inline V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static inline V add(V a, V b) { return _mm512_add_ps(a, b); }
    static inline V bitOr(V a, V b) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
    static inline T sum(V a) { return _mm512_reduce_add_ps(a); }
    static inline V loadPart(const T* p, int n) { return _mm512_maskz_loadu_ps((__mmask16) ((1u << n) - 1), p); }
    static inline void storePart(T* p, V v, int n) { _mm512_mask_storeu_ps(p, (__mmask16) ((1u << n) - 1), v); }
};
template <>
struct Vec<double> {
    typedef double T;
    typedef __m512d V;
    static constexpr int L = 8;
    static inline V zero() { return _mm512_setzero_pd(); }
    static inline V load(const T* p) { return _mm512_loadu_pd(p); }
    static inline void store(T* p, V v) { _mm512_storeu_pd(p, v); }
    static inline V set1(T x) { return _mm512_set1_pd(x); }
    static inline V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
    static inline V mul(V a, V b) { return _mm512_mul_pd(a, b); }
    static inline V add(V a, V b) { return _mm512_add_pd(a, b); }
    static inline V bitOr(V a, V b) { return _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(a), _mm512_castpd_si512(b))); }
    static inline T sum(V a) { return _mm512_reduce_add_pd(a); }
    static inline V loadPart(const T* p, int n) { return _mm512_maskz_loadu_pd((__mmask8) ((1u << n) - 1), p); }
    static inline void storePart(T* p, V v, int n) { _mm512_mask_storeu_pd(p, (__mmask8) ((1u << n) - 1), v); }
};
#else
static constexpr const char* ISA_NAME = "avx2";
template <>
struct Vec<float> {
    typedef float T;
    typedef __m256 V;
    static constexpr int L = 8;
    static inline V zero() { return _mm256_setzero_ps(); }
    static inline V load(const T* p) { return _mm256_loadu_ps(p); }
    static inline void store(T* p, V v) { _mm256_storeu_ps(p, v); }
    static inline V set1(T x) { return _mm256_set1_ps(x); }
    static inline V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static inline V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static inline V add(V a, V b) { return _mm256_add_ps(a, b); }
    static inline V bitOr(V a, V b) { return _mm256_or_ps(a, b); }
    static inline T sum(V a) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        s = _mm_add_ss(s, _mm_movehdup_ps(s));
        return _mm_cvtss_f32(s);
    }
    static inline __m256i mask(int n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static inline V loadPart(const T* p, int n) { return _mm256_maskload_ps(p, mask(n)); }
    static inline void storePart(T* p, V v, int n) { _mm256_maskstore_ps(p, mask(n), v); }
};
template <>
struct Vec<double> {
    typedef double T;
    typedef __m256d V;
    static constexpr int L = 4;
    static inline V zero() { return _mm256_setzero_pd(); }
    static inline V load(const T* p) { return _mm256_loadu_pd(p); }
    static inline void store(T* p, V v) { _mm256_storeu_pd(p, v); }
    static inline V set1(T x) { return _mm256_set1_pd(x); }
    static inline V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    static inline V mul(V a, V b) { return _mm256_mul_pd(a, b); }
    static inline V add(V a, V b) { return _mm256_add_pd(a, b); }
    static inline V bitOr(V a, V b) { return _mm256_or_pd(a, b); }
    static inline T sum(V a) {
        __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
        return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    }
    static inline __m256i mask(int n) {
        return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
    }
    static inline V loadPart(const T* p, int n) { return _mm256_maskload_pd(p, mask(n)); }
    static inline void storePart(T* p, V v, int n) { _mm256_maskstore_pd(p, mask(n), v); }
};
#endif

#include "gemm.h"
#include "pointwise.h"
#include "lowering.h"
#include "eigen.h"
#include "lu.h"
