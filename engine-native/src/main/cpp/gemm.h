// gemm.h - packed, cache-blocked matrix products (real f32/f64; complex c64 on top of them). Part of isa_body.h.
//
// C = alpha * op(A) op(B) + beta * C, row-major, op = N or T (H = T for real data), as BLAS.
//
// Performance model (Goto/BLIS, written for row-major C, so the vectorised direction is a row of C):
//   micro-kernel  MR x NR tile of C held in MR * NV vector registers (NR = NV * lanes), k-loop of rank-1 updates:
//                 NV loads of a packed B row, MR broadcasts of packed A, MR * NV independent FMAs. AVX-512 f32:
//                 14 x 32 (28 zmm accumulators, 2 B loads, 1-2 broadcasts: 31-32 of the 32 registers); f64 14 x 16.
//                 AVX2: 6 x 16 f32 / 6 x 8 f64 (12 ymm accumulators of 16). FMA latency 4 cycles x 2 pipes needs
//                 >= 8 independent accumulators; all variants have >= 12.
//   KC            depth of one rank-KC update: the packed A micro-panel (MR x KC: 14 KiB f32 at KC = 256) stays in
//                 L1 (32-48 KiB) while the inner loop walks the B block.
//   NC            width of the packed B block (KC x NC: 512 KiB f32 at NC = 512, f64 at NC = 256), resident in the
//                 1 MiB L2 and streamed from there, NV vectors per k.
//   MC            rows of the packed A block (up to 64 micro-panels); it is read once per B block.
//   Loop order    for ic (MC) { for pc (KC) { pack A block; for jc (NC) { pack B block;
//                     for ir (MR) { for jr (NR) { micro-kernel } } } } }
//   Edges         panels are zero-padded to MR / NR; a partial tile is computed whole into a stack buffer and
//                 only its valid part is merged into C.
//   alpha, beta   applied when a tile is stored: beta on the first KC block only (1 afterwards); beta == 0
//                 never reads C (NaN there does not survive), as BLAS.
//   Small         products with op(B) = B and m n k <= 160^3 skip packing (gemmDirect below; AVX-512 only).
//   Threads       none here: Java splits row ranges and batch items across threads (NativeBackend), each call
//                 packing its own blocks.

template <typename T>
struct GemmBlocking;

#if SPROUT_ISA_BITS == 512
// DIRECT: whether small products skip packing (gemmDirect). Measured: a clear gain with AVX-512 (n = 64 f32: ~0.6x
// -> ~0.9x OpenBLAS), a loss with AVX2 (16 registers: the strided A broadcasts cost more than packing saves).
template <> struct GemmBlocking<float> { static constexpr int MR = 14, NV = 2, KC = 256, NC = 512, MCP = 64; static constexpr bool DIRECT = true; };
template <> struct GemmBlocking<double> { static constexpr int MR = 14, NV = 2, KC = 256, NC = 256, MCP = 64; static constexpr bool DIRECT = true; };
#else
template <> struct GemmBlocking<float> { static constexpr int MR = 6, NV = 2, KC = 256, NC = 512, MCP = 128; static constexpr bool DIRECT = false; };
template <> struct GemmBlocking<double> { static constexpr int MR = 6, NV = 2, KC = 256, NC = 256, MCP = 128; static constexpr bool DIRECT = false; };
#endif

// The MR x NR tile of C at c: C = alpha * (A panel x B panel) + beta * C, valid part mr x nr. The packed A panel
// has AS values per depth step (AS = the blocking's MR; a kernel for fewer rows, MR < AS, reads the first MR of them).
// CHECK: also fold the stored values into *chk (x * 0 is a signed zero for finite x and NaN otherwise; OR-ing the
// bits keeps a NaN), from the registers, so a finiteness check of C costs two vector operations per stored register
// instead of reading C back (reading each tile back from L1 cost 6-9 % of a K = 128 product, 3 % per row panel).
template <typename T, int MR, int NV, int AS = MR, bool CHECK = false>
static inline __attribute__((always_inline)) void gemmMicro(long kc, const T* __restrict a, const T* __restrict b,
                                                            T* c, long ldc, T alpha, T beta, int mr, int nr,
                                                            typename Vec<T>::V* chk = nullptr) {
    typedef Vec<T> VT;
    typedef typename VT::V V;
    constexpr int L = VT::L, NR = NV * L;
    V acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[i][v] = VT::zero();
    }
    for (long p = 0; p < kc; p++) {
        V bv[NV];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) bv[v] = VT::load(b + v * L);
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            V ai = VT::set1(a[i]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] = VT::fma(ai, bv[v], acc[i][v]);
        }
        a += AS;
        b += NR;
    }
    V va = VT::set1(alpha);
    if (mr == MR && nr == NR) {
        V z = VT::zero(), ck = z;
        if (beta == T(0)) {
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) {
                    V x = VT::mul(va, acc[i][v]);
                    VT::store(c + i * ldc + v * L, x);
                    if (CHECK) ck = VT::bitOr(ck, VT::mul(x, z));
                }
            }
        } else if (beta == T(1)) {
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) {
                    V x = VT::fma(va, acc[i][v], VT::load(c + i * ldc + v * L));
                    VT::store(c + i * ldc + v * L, x);
                    if (CHECK) ck = VT::bitOr(ck, VT::mul(x, z));
                }
            }
        } else {
            V vb = VT::set1(beta);
#pragma GCC unroll 16
            for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) {
                    V x = VT::fma(va, acc[i][v], VT::mul(vb, VT::load(c + i * ldc + v * L)));
                    VT::store(c + i * ldc + v * L, x);
                    if (CHECK) ck = VT::bitOr(ck, VT::mul(x, z));
                }
            }
        }
        if (CHECK) *chk = VT::bitOr(*chk, ck);
        return;
    }
    alignas(64) T tmp[MR * NR];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) VT::store(tmp + i * NR + v * L, VT::mul(va, acc[i][v]));
    }
    T ck = 0;
    for (int i = 0; i < mr; i++) {
        T* ci = c + i * ldc;
        const T* ti = tmp + i * NR;
        if (beta == T(0)) {
            for (int j = 0; j < nr; j++) ci[j] = ti[j];
        } else {
            for (int j = 0; j < nr; j++) ci[j] = ti[j] + beta * ci[j];
        }
        if (CHECK) {
            for (int j = 0; j < nr; j++) ck += ci[j] * T(0);
        }
    }
    if (CHECK) *chk = VT::add(*chk, VT::set1(ck));
}

// The last row panel of a block when it has mr < MR valid rows: the kernel for exactly mr rows (one instance per
// count), so a partial panel costs its rows, not MR (m = 128 with MR = 14 is 9 full panels and one of 2 rows: the
// padded kernel spent 9 % of the product on zero rows there).
template <typename T, int R, int NV, int AS, bool CHECK = false>
static inline void gemmMicroRows(int mr, long kc, const T* a, const T* b, T* c, long ldc, T alpha, T beta, int nr,
                                 typename Vec<T>::V* chk = nullptr) {
    if constexpr (R > 0) {
        if (mr == R) {
            gemmMicro<T, R, NV, AS, CHECK>(kc, a, b, c, ldc, alpha, beta, R, nr, chk);
            return;
        }
        gemmMicroRows<T, R - 1, NV, AS, CHECK>(mr, kc, a, b, c, ldc, alpha, beta, nr, chk);
    }
}

// Packs rows [i0, i0 + mc) x depth [p0, p0 + kc) of op(A) into MR-row panels: panel[p * MR + r], zero-padded.
template <typename T, int MR>
static void gemmPackA(bool ta, const T* a, long lda, long i0, long mc, long p0, long kc, T* out) {
    for (long ir = 0; ir < mc; ir += MR) {
        int rows = (int) std::min<long>(MR, mc - ir);
        T* dst = out + ir * kc;
        if (!ta) {  // A(i, p) = a[i * lda + p]: read rows, write with stride MR
            for (int r = 0; r < rows; r++) {
                const T* src = a + (i0 + ir + r) * lda + p0;
                for (long p = 0; p < kc; p++) dst[p * MR + r] = src[p];
            }
            for (int r = rows; r < MR; r++)
                for (long p = 0; p < kc; p++) dst[p * MR + r] = T(0);
        } else {  // A(i, p) = a[p * lda + i]: MR contiguous values per p
            for (long p = 0; p < kc; p++) {
                const T* src = a + (p0 + p) * lda + i0 + ir;
                T* d = dst + p * MR;
                int r = 0;
                for (; r < rows; r++) d[r] = src[r];
                for (; r < MR; r++) d[r] = T(0);
            }
        }
    }
}

// Transposed B panels through register transposes: 16 rows of the stored B (16 panel columns) x 16 depths are loaded
// as 16 vectors, transposed in registers (unpack 32/64-bit, then 128-bit lane shuffles: 64 shuffles per 256 floats)
// and stored as 16 contiguous panel rows. The scalar loop writes one float per store at stride NR (one cache line
// per 16 stores at best); on the forward pass of a linear layer (x W^T, B = W^T) that packing was about a third of
// the gemm. AVX-512 f32 with full 32-column panels only; returns false (nothing written) otherwise.
template <typename T, int NR>
static inline bool gemmPackBTransposedTiles(const T*, long, long, long, long, int, T*) {
    return false;
}
#if SPROUT_ISA_BITS == 512
static inline void transpose16x16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]);
        __m512d c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int i = 0; i < 16; i += 8) {
        for (int j = 0; j < 4; j++) {
            t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
            t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xdd);
        }
    }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
    }
}

template <>
inline bool gemmPackBTransposedTiles<float, 32>(const float* b, long ldb, long p0, long kc, long j, int cols, float* dst) {
    if (cols != 32) return false;
    long p = 0;
    __m512 r[16];
    for (; p + 16 <= kc; p += 16) {
        for (int h = 0; h < 32; h += 16) {
            for (int q = 0; q < 16; q++) r[q] = _mm512_loadu_ps(b + (j + h + q) * ldb + p0 + p);
            transpose16x16(r);
            for (int q = 0; q < 16; q++) _mm512_storeu_ps(dst + (p + q) * 32 + h, r[q]);
        }
    }
    for (; p < kc; p++)
        for (int q = 0; q < 32; q++) dst[p * 32 + q] = b[(j + q) * ldb + p0 + p];
    return true;
}
#endif

// Packs depth [p0, p0 + kc) x columns [j0, j0 + nc) of op(B) into NR-column panels: panel[p * NR + c], zero-padded.
template <typename T, int NR>
static void gemmPackB(bool tb, const T* b, long ldb, long p0, long kc, long j0, long nc, T* out) {
    for (long jr = 0; jr < nc; jr += NR) {
        int cols = (int) std::min<long>(NR, nc - jr);
        T* dst = out + jr * kc;
        if (!tb) {  // B(p, j) = b[p * ldb + j]: NR contiguous values per p
            for (long p = 0; p < kc; p++) {
                const T* src = b + (p0 + p) * ldb + j0 + jr;
                T* d = dst + p * NR;
                if (cols == NR) {
                    std::memcpy(d, src, sizeof(T) * NR);
                } else {
                    int q = 0;
                    for (; q < cols; q++) d[q] = src[q];
                    for (; q < NR; q++) d[q] = T(0);
                }
            }
        } else {  // B(p, j) = b[j * ldb + p]: read rows of the stored B, write with stride NR
            if (gemmPackBTransposedTiles<T, NR>(b, ldb, p0, kc, j0 + jr, cols, dst)) continue;
            for (int q = 0; q < cols; q++) {
                const T* src = b + (j0 + jr + q) * ldb + p0;
                for (long p = 0; p < kc; p++) dst[p * NR + q] = src[p];
            }
            for (int q = cols; q < NR; q++)
                for (long p = 0; p < kc; p++) dst[p * NR + q] = T(0);
        }
    }
}

// C = beta * C for an m x n matrix (the k == 0 / alpha == 0 case); beta == 0 writes zeros without reading.
template <typename T>
static void gemmScale(long m, long n, T beta, T* c, long ldc) {
    for (long i = 0; i < m; i++) {
        T* ci = c + i * ldc;
        if (beta == T(0)) {
            for (long j = 0; j < n; j++) ci[j] = T(0);
        } else if (beta != T(1)) {
            for (long j = 0; j < n; j++) ci[j] *= beta;
        }
    }
}

// Scratch for the packed blocks of one thread, kept between calls (a 1-2 MiB allocation per call would cost
// page faults comparable to a small product).
template <typename T>
struct GemmScratch {
    Scratch<T> a, b;
    static GemmScratch& local() {
        static thread_local GemmScratch s;
        return s;
    }
};

// ------------------------------------------------------------------------------------------ small products
// Direct (unpacked) path for small products with op(B) = B (row-major, the vectorised direction contiguous): the
// micro-kernel broadcasts A(i, p) straight from A (either layout) and loads rows of B straight from B, so there is no
// packing at all; partial column blocks use masked loads/stores, partial row blocks a kernel instantiated for the
// remaining row count. Packing costs O(mk + kn) against 2mnk flops: at n = 64 it is ~10 % of the work, and the
// packed path also computes zero-padded rows; here neither. Used when m n k <= DIRECT_MAX_MNK and k <= KC, so the
// k x NR block of B (<= 32 KiB f32) stays in L1 while the row panels pass over it.

template <typename T, int MR, int NV>
static inline __attribute__((always_inline)) void gemmDirectMicro(long k, const T* a, long ars, long aks, const T* b,
                                                                  long ldb, T* c, long ldc, T alpha, T beta, int nr) {
    typedef Vec<T> VT;
    typedef typename VT::V V;
    constexpr int L = VT::L, NR = NV * L;
    V acc[MR][NV];
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[i][v] = VT::zero();
    }
    const bool full = nr == NR;
    for (long p = 0; p < k; p++) {
        V bv[NV];
        const T* bp = b + p * ldb;
        if (full) {
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) bv[v] = VT::load(bp + v * L);
        } else {
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) {
                int cnt = std::min(L, std::max(0, nr - v * L));
                bv[v] = cnt == L ? VT::load(bp + v * L) : VT::loadPart(bp + v * L, cnt);
            }
        }
        const T* ap = a + p * aks;
#pragma GCC unroll 16
        for (int i = 0; i < MR; i++) {
            V ai = VT::set1(ap[i * ars]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] = VT::fma(ai, bv[v], acc[i][v]);
        }
    }
    V va = VT::set1(alpha), vb = VT::set1(beta);
#pragma GCC unroll 16
    for (int i = 0; i < MR; i++) {
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            T* cp = c + i * ldc + v * L;
            int cnt = full ? L : std::min(L, std::max(0, nr - v * L));
            if (cnt == 0) continue;
            V r = VT::mul(va, acc[i][v]);
            if (cnt == L) {
                if (beta != T(0)) r = VT::fma(vb, VT::load(cp), r);
                VT::store(cp, r);
            } else {
                if (beta != T(0)) r = VT::fma(vb, VT::loadPart(cp, cnt), r);
                VT::storePart(cp, r, cnt);
            }
        }
    }
}

// Rows [0, mr) of a direct tile, mr < MR: dispatch to the kernel for exactly that many rows.
template <typename T, int R, int NV>
static inline void gemmDirectRows(int mr, long k, const T* a, long ars, long aks, const T* b, long ldb, T* c, long ldc,
                                  T alpha, T beta, int nr) {
    if constexpr (R > 0) {
        if (mr == R) {
            gemmDirectMicro<T, R, NV>(k, a, ars, aks, b, ldb, c, ldc, alpha, beta, nr);
            return;
        }
        gemmDirectRows<T, R - 1, NV>(mr, k, a, ars, aks, b, ldb, c, ldc, alpha, beta, nr);
    }
}

static constexpr double DIRECT_MAX_MNK = 160.0 * 160.0 * 160.0;

template <typename T>
static void gemmDirect(bool ta, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb, T beta,
                       T* c, long ldc) {
    typedef GemmBlocking<T> G;
    constexpr int MR = G::MR, NV = G::NV, NR = NV * Vec<T>::L;
    long ars = ta ? 1 : lda, aks = ta ? lda : 1;
    for (long jr = 0; jr < n; jr += NR) {
        int nr = (int) std::min<long>(NR, n - jr);
        long ir = 0;
        for (; ir + MR <= m; ir += MR)
            gemmDirectMicro<T, MR, NV>(k, a + ir * ars, ars, aks, b + jr, ldb, c + ir * ldc + jr, ldc, alpha, beta, nr);
        if (ir < m)
            gemmDirectRows<T, MR - 1, NV>((int) (m - ir), k, a + ir * ars, ars, aks, b + jr, ldb, c + ir * ldc + jr, ldc,
                                          alpha, beta, nr);
    }
}

// ------------------------------------------------------------------------------------------ few columns, B transposed
// C = alpha A B^T + beta C with few columns (n <= DOT_MAX_N; x W^T of a layer with few outputs, e.g. 10 classes):
// every C entry is a dot product of an A row and a B row, both contiguous, so R rows of A run against all n rows of
// B, vectorised along k in R x n accumulators (one kernel per n: the accumulators stay in registers). The packed
// path pads n to NR columns (3.2x the work at n = 10) and packs B through its scalar transposing loop.
static constexpr int DOT_MAX_N = 12;

template <typename T, int R, int N>
static inline void gemmDotRows(long k, const T* a, long lda, const T* b, long ldb, T alpha, T beta, T* c, long ldc) {
    typedef Vec<T> VT;
    typedef typename VT::V V;
    constexpr int L = VT::L;
    V acc[R][N];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 16
        for (int j = 0; j < N; j++) acc[r][j] = VT::zero();
    }
    long p = 0;
    for (; p + L <= k; p += L) {
        V av[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) av[r] = VT::load(a + r * lda + p);
#pragma GCC unroll 16
        for (int j = 0; j < N; j++) {
            V bv = VT::load(b + j * ldb + p);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][j] = VT::fma(av[r], bv, acc[r][j]);
        }
    }
    if (p < k) {
        int rem = (int) (k - p);
        V av[R];
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) av[r] = VT::loadPart(a + r * lda + p, rem);
#pragma GCC unroll 16
        for (int j = 0; j < N; j++) {
            V bv = VT::loadPart(b + j * ldb + p, rem);
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) acc[r][j] = VT::fma(av[r], bv, acc[r][j]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 16
        for (int j = 0; j < N; j++) {
            T v = alpha * VT::sum(acc[r][j]);
            c[r * ldc + j] = beta == T(0) ? v : v + beta * c[r * ldc + j];
        }
    }
}

template <typename T, int R, int N>
static inline void gemmDotCols(int n, long k, const T* a, long lda, const T* b, long ldb, T alpha, T beta, T* c,
                               long ldc) {
    if constexpr (N > 0) {
        if (n == N) {
            gemmDotRows<T, R, N>(k, a, lda, b, ldb, alpha, beta, c, ldc);
            return;
        }
        gemmDotCols<T, R, N - 1>(n, k, a, lda, b, ldb, alpha, beta, c, ldc);
    }
}

template <typename T>
static void gemmDotNT(long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb, T beta, T* c,
                      long ldc) {
    constexpr int R = SPROUT_ISA_BITS == 512 ? 2 : 1;  // R x 12 accumulators + R + 1 operands: 32 zmm / 16 ymm
    long i = 0;
    for (; i + R <= m; i += R)
        gemmDotCols<T, R, DOT_MAX_N>((int) n, k, a + i * lda, lda, b, ldb, alpha, beta, c + i * ldc, ldc);
    for (; i < m; i++) gemmDotCols<T, 1, DOT_MAX_N>((int) n, k, a + i * lda, lda, b, ldb, alpha, beta, c + i * ldc, ldc);
}

template <typename T>
static bool allFinite(const T* x, long n);  // pointwise.h

// Whether rows x cols of C at c (leading dimension ldc) hold no NaN or infinity: allFinite row by row (used after
// the small-product paths only; the packed path checks from the registers).
template <typename T>
static bool gemmFiniteBlock(const T* c, long ldc, long rows, long cols) {
    for (long i = 0; i < rows; i++) {
        if (!allFinite<T>(c + i * ldc, cols)) return false;
    }
    return true;
}

// One product, any size. With bad != null, also sets *bad when the finished C holds a NaN or infinity (never
// clears it): the packed path folds each tile's values into a check as the last depth block stores them, from the
// registers (gemmMicro's CHECK), instead of a separate pass over C from L3 or memory (the optimizers' finiteness
// check of a weight gradient); the other paths (small products) read C back at the end.
template <typename T>
static void gemmOne(bool ta, bool tb, long m, long n, long k, T alpha, const T* a, long lda, const T* b, long ldb,
                    T beta, T* c, long ldc, bool* bad = nullptr) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || alpha == T(0)) {
        gemmScale(m, n, beta, c, ldc);
        if (bad && !*bad && !gemmFiniteBlock(c, ldc, m, n)) *bad = true;
        return;
    }
    typedef GemmBlocking<T> G;
    constexpr int MR = G::MR, NR = G::NV * Vec<T>::L, KC = G::KC, NC = G::NC;
    if (!ta && tb && n <= DOT_MAX_N && k >= 2 * Vec<T>::L) {
        gemmDotNT<T>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (bad && !*bad && !gemmFiniteBlock(c, ldc, m, n)) *bad = true;
        return;
    }
    if (G::DIRECT && !tb && k <= KC && (double) m * n * k <= DIRECT_MAX_MNK) {
        gemmDirect<T>(ta, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (bad && !*bad && !gemmFiniteBlock(c, ldc, m, n)) *bad = true;
        return;
    }
    const long MC = (long) MR * G::MCP;
    long mcMax = std::min<long>(MC, (m + MR - 1) / MR * MR);
    long kcMax = std::min<long>(KC, k);
    long ncMax = std::min<long>(NC, (n + NR - 1) / NR * NR);
    GemmScratch<T>& s = GemmScratch<T>::local();
    T* pa = s.a.reserve((size_t) mcMax * kcMax);
    T* pb = s.b.reserve((size_t) kcMax * ncMax);
    typename Vec<T>::V chk = Vec<T>::zero();
    for (long ic = 0; ic < m; ic += MC) {
        long mc = std::min<long>(MC, m - ic);
        for (long pc = 0; pc < k; pc += KC) {
            long kc = std::min<long>(KC, k - pc);
            T betaHere = pc == 0 ? beta : T(1);
            bool checkHere = bad != nullptr && pc + kc >= k;
            gemmPackA<T, MR>(ta, a, lda, ic, mc, pc, kc, pa);
            for (long jc = 0; jc < n; jc += NC) {
                long nc = std::min<long>(NC, n - jc);
                gemmPackB<T, NR>(tb, b, ldb, pc, kc, jc, nc, pb);
                for (long ir = 0; ir < mc; ir += MR) {
                    int mr = (int) std::min<long>(MR, mc - ir);
                    const T* ap = pa + ir * kc;
                    T* crow = c + (ic + ir) * ldc + jc;
                    if (mr == MR && checkHere) {
                        for (long jr = 0; jr < nc; jr += NR) {
                            int nr = (int) std::min<long>(NR, nc - jr);
                            gemmMicro<T, MR, G::NV, MR, true>(kc, ap, pb + jr * kc, crow + jr, ldc, alpha, betaHere,
                                                               mr, nr, &chk);
                        }
                    } else if (mr == MR) {
                        for (long jr = 0; jr < nc; jr += NR) {
                            int nr = (int) std::min<long>(NR, nc - jr);
                            gemmMicro<T, MR, G::NV>(kc, ap, pb + jr * kc, crow + jr, ldc, alpha, betaHere, mr, nr);
                        }
                    } else {
                        for (long jr = 0; jr < nc; jr += NR) {
                            int nr = (int) std::min<long>(NR, nc - jr);
                            if (checkHere) {
                                gemmMicroRows<T, MR - 1, G::NV, MR, true>(mr, kc, ap, pb + jr * kc, crow + jr, ldc,
                                                                           alpha, betaHere, nr, &chk);
                            } else {
                                gemmMicroRows<T, MR - 1, G::NV, MR>(mr, kc, ap, pb + jr * kc, crow + jr, ldc, alpha,
                                                                     betaHere, nr);
                            }
                        }
                    }
                }
            }
        }
    }
    if (bad) {
        typename Vec<T>::T s = Vec<T>::sum(chk);
        if (s != s) *bad = true;
    }
}

template <typename T>
static void gemmBatch(bool ta, bool tb, int m, int n, int k, T alpha, const T* a, int lda, long long strideA,
                      const T* b, int ldb, long long strideB, T beta, T* c, int ldc, long long strideC, int batch,
                      bool* bad = nullptr) {
    for (int i = 0; i < batch; i++) {
        gemmOne<T>(ta, tb, m, n, k, alpha, a + i * strideA, lda, b + i * strideB, ldb, beta, c + i * strideC, ldc,
                   bad);
    }
}

// ------------------------------------------------------------------------------------------ complex (c64)
// 4M method on the real kernel: with op(A) = Ar + i Ai and op(B) = Br + i Bi (H negates the imaginary part),
//   P = (Ar Br - Ai Bi) + i (Ar Bi + Ai Br),   C = alpha P + beta C   (complex alpha, beta)
// The four real products run at real-gemm speed (8mnk flops in 4 x 2mnk); the planar copies cost O(mk + kn + mn).

static void cgemmPlanar(int trans, long rows, long cols, const float* x, long ld, float* re, float* im) {
    float sign = trans == 2 ? -1.0f : 1.0f;
    for (long i = 0; i < rows; i++) {
        const float* src = x + 2 * i * ld;
        float* r = re + i * cols;
        float* q = im + i * cols;
        for (long j = 0; j < cols; j++) {
            r[j] = src[2 * j];
            q[j] = sign * src[2 * j + 1];
        }
    }
}

static void cgemmOne(int ta, int tb, long m, long n, long k, float ar, float ai, const float* a, long lda,
                     const float* b, long ldb, float br, float bi, float* c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0 || (ar == 0.0f && ai == 0.0f)) {
        for (long i = 0; i < m; i++) {
            float* ci = c + 2 * i * ldc;
            for (long j = 0; j < n; j++) {
                float cr = ci[2 * j], cim = ci[2 * j + 1];
                if (br == 0.0f && bi == 0.0f) {
                    ci[2 * j] = 0.0f;
                    ci[2 * j + 1] = 0.0f;
                } else {
                    ci[2 * j] = br * cr - bi * cim;
                    ci[2 * j + 1] = br * cim + bi * cr;
                }
            }
        }
        return;
    }
    long rowsA = ta ? k : m, colsA = ta ? m : k, rowsB = tb ? n : k, colsB = tb ? k : n;
    Scratch<float> buf((size_t) 2 * (rowsA * colsA + rowsB * colsB + m * n));
    float* Ar = buf.p;
    float* Ai = Ar + rowsA * colsA;
    float* Br = Ai + rowsA * colsA;
    float* Bi = Br + rowsB * colsB;
    float* Pr = Bi + rowsB * colsB;
    float* Pi = Pr + m * n;
    cgemmPlanar(ta, rowsA, colsA, a, lda, Ar, Ai);
    cgemmPlanar(tb, rowsB, colsB, b, ldb, Br, Bi);
    bool tA = ta != 0, tB = tb != 0;
    gemmOne<float>(tA, tB, m, n, k, 1.0f, Ar, colsA, Br, colsB, 0.0f, Pr, n);
    gemmOne<float>(tA, tB, m, n, k, -1.0f, Ai, colsA, Bi, colsB, 1.0f, Pr, n);
    gemmOne<float>(tA, tB, m, n, k, 1.0f, Ar, colsA, Bi, colsB, 0.0f, Pi, n);
    gemmOne<float>(tA, tB, m, n, k, 1.0f, Ai, colsA, Br, colsB, 1.0f, Pi, n);
    bool zeroBeta = br == 0.0f && bi == 0.0f;
    for (long i = 0; i < m; i++) {
        float* ci = c + 2 * i * ldc;
        const float* pr = Pr + i * n;
        const float* pi = Pi + i * n;
        for (long j = 0; j < n; j++) {
            float xr = ar * pr[j] - ai * pi[j];
            float xi = ar * pi[j] + ai * pr[j];
            if (!zeroBeta) {
                float cr = ci[2 * j], cim = ci[2 * j + 1];
                xr += br * cr - bi * cim;
                xi += br * cim + bi * cr;
            }
            ci[2 * j] = xr;
            ci[2 * j + 1] = xi;
        }
    }
}

// Offsets, leading dimensions and strides in complex elements (the pointers already point at the first one).
static void cgemmBatch(int ta, int tb, int m, int n, int k, float ar, float ai, const float* a, int lda,
                       long long strideA, const float* b, int ldb, long long strideB, float br, float bi, float* c,
                       int ldc, long long strideC, int batch) {
    for (int i = 0; i < batch; i++) {
        cgemmOne(ta, tb, m, n, k, ar, ai, a + 2 * i * strideA, lda, b + 2 * i * strideB, ldb, br, bi,
                 c + 2 * i * strideC, ldc);
    }
}
