// LU with partial pivoting and the solve A X = B (gesv), real (f32, f64) and complex (c64, interleaved re,im).
//
// Contract (the Java reference dev.sprout.linalg.LU / ComplexLU, row-major): A is overwritten by P A = L U
// (U on and above the diagonal, L's multipliers below, whole rows exchanged); the pivot of column j is the
// first row of largest |a| (complex: |re| + |im|, LAPACK's cabs1) at or below j; an exactly zero pivot sets
// info = j + 1 (first such j), the factorisation still completes (that column's elimination is skipped) and B
// is left unchanged; otherwise B (n x nrhs) is overwritten by the solution. The multiplier is a / pivot (real)
// or a * (1/pivot) with Smith's reciprocal (complex). A NaN never wins a pivot search except in the pivot
// position itself, as in the reference's "m > max" scan. Computation is in the working precision (f32 / c64 in
// float), not in double as the Java reference does.
//
// Small path, n <= 64 (sprout_lu_small_*): one block per matrix, batched. A lives in shared memory column-major
// (ld n+1); per column: warp 0 finds the pivot (shuffle argmax), swaps the two rows and scales the column, one
// barrier, all threads apply the rank-1 update, one barrier. Then (if info == 0) B is solved in chunks of cb
// columns held in shared memory: permuted load, forward substitution (unit L) and back substitution, one barrier
// per row. Cost: ~2n barriers + n^3/3 shared FMAs for the factorisation; 2n barriers + n^2 cb per chunk.
//
// Large path (single matrices, n > 64; the Cayley transform solves n = 256..1024 with nrhs = n): right-looking
// blocked LU with panels of W columns (W = 32 for f32, 16 for f64/c64, so that a thread's two panel rows fit in
// registers), driven by CudaLinalg:
//   1. sprout_lu_panel_*: ONE block of 512 threads factors the panel (rows jb..n-1, W columns) with each thread
//      holding two rows in registers. Per column one barrier: every warp finds its best row (shuffle argmax) and
//      publishes it (plus the current top row) in double-buffered shared memory; after the barrier every warp
//      reduces the warp candidates, so all threads know the pivot row without a second barrier; the two rows are
//      exchanged between registers and each thread eliminates its rows. It touches only the panel's columns:
//      it writes the factored panel back, keeps perm (perm[i] = original row now at position i) and leaves the
//      panel's row moves as a table in scratch memory (srcTop[t]: the panel-relative row that ends in slot t < w;
//      outDst[k] <- outSrc[k], k < nOut <= w: the rows pushed out of the top w slots).
//   1b. sprout_lu_swap_*: many blocks of 32 threads, one column per thread, over the n - w columns outside the
//      panel (leading 0..jb-1 and trailing jb+w..n-1): each applies the move table to its column (a gather of at
//      most 2w rows, all loads before all stores; a leading column returns at once if the panel moved no row)
//      and, for a trailing column, solves U12 = L11^-1 A12 in registers with the unit-lower L11 staged in shared
//      memory from the factored panel. It does nothing if the panel kernel refused its launch (info < 0).
//   1c. panels of more than 1024 rows instead: sprout_lu_panel_generic_*, the same algorithm on global memory
//      (one block of 1024 threads, row exchanges and U12 included, no swap kernel), slow but correct for any n.
//   2. A22 -= L21 U12 through CudaGemm (sgemm SIMT / dgemm / cgemm), k = W; the panel kernel leaves a copy of
//      L21 (ld W) in a scratch buffer, so the product's A operand is contiguous and in another buffer than C.
//   Solve: sprout_lu_invdiag_* inverts all diagonal blocks of L (unit lower) and U (upper) of size SB = 128 at
//   once (one block each, 1024 threads, each thread owns 16 elements of a column of the inverse in registers,
//   one barrier per row); sprout_lu_rowcopy_* gathers P B into scratch; forward and back substitution are then
//   pure gemms: Y_i = Linv_i Bp_i, Bp_(>i) -= L_(>i,i) Y_i, then X_i = Uinv_i Y_i, Y_(<i) -= U_(<i,i) X_i; the
//   result is copied back to B only if info == 0 (every solve kernel reads info on the device, so no host round
//   trip is needed between the factorisation and the solve).
// Performance model (c64, n = 1024, nrhs = 1024, H100/H200): factorisation = 64 panels of three launches; the
// panel kernel costs 16 column steps of ~0.3-0.5 us (argmax latency + one barrier) on one SM; the swap kernel
// spreads the row moves and the U12 solve (2W row loads + W^2/2 FMAs per column) over ceil((n - W) / 32) = 32
// blocks, ~2-3 us (load latency dominated) instead of ~1000 columns on the panel's one block of 512 threads; the
// trailing cgemm (~2n^2 W complex FMAs, memory-bound at k = 16: ~3-8 us). The solve is ~8.6 GFLOP of
// cgemm (+1 GFLOP for the explicit diagonal inverses) at the gemm's rate, ~0.3 ms at 30 TFLOP/s, plus ~30 us of
// inversion. Kernels check the shared-memory size they are given and report a mismatch as info = INT_MIN.

#include <climits>
#include <cmath>

namespace lu_detail {

struct __align__(8) cfloat {
    float re, im;
};

template <typename T> struct Ops;

template <> struct Ops<float> {
    typedef float Real;
    static __device__ __forceinline__ float zero() { return 0.0f; }
    static __device__ __forceinline__ float one() { return 1.0f; }
    static __device__ __forceinline__ float key(float x) { return fabsf(x); }
    static __device__ __forceinline__ bool isZero(float x) { return x == 0.0f; }
    /** acc - a b */
    static __device__ __forceinline__ float fms(float acc, float a, float b) { return acc - a * b; }
    static __device__ __forceinline__ float div(float x, float y) { return x / y; }
};

template <> struct Ops<double> {
    typedef double Real;
    static __device__ __forceinline__ double zero() { return 0.0; }
    static __device__ __forceinline__ double one() { return 1.0; }
    static __device__ __forceinline__ double key(double x) { return fabs(x); }
    static __device__ __forceinline__ bool isZero(double x) { return x == 0.0; }
    static __device__ __forceinline__ double fms(double acc, double a, double b) { return acc - a * b; }
    static __device__ __forceinline__ double div(double x, double y) { return x / y; }
};

template <> struct Ops<cfloat> {
    typedef float Real;
    static __device__ __forceinline__ cfloat zero() { cfloat z; z.re = 0.0f; z.im = 0.0f; return z; }
    static __device__ __forceinline__ cfloat one() { cfloat z; z.re = 1.0f; z.im = 0.0f; return z; }
    static __device__ __forceinline__ float key(cfloat x) { return fabsf(x.re) + fabsf(x.im); }
    static __device__ __forceinline__ bool isZero(cfloat x) { return x.re == 0.0f && x.im == 0.0f; }
    static __device__ __forceinline__ cfloat fms(cfloat acc, cfloat a, cfloat b) {
        cfloat r;
        r.re = acc.re - (a.re * b.re - a.im * b.im);
        r.im = acc.im - (a.re * b.im + a.im * b.re);
        return r;
    }
    /** x * (1/y), the reciprocal by Smith's algorithm (as ComplexLU). */
    static __device__ __forceinline__ cfloat div(cfloat x, cfloat y) {
        float ir, ii;
        if (fabsf(y.re) >= fabsf(y.im)) {
            const float r = y.im / y.re, den = y.re + y.im * r;
            ir = 1.0f / den;
            ii = -r / den;
        } else {
            const float r = y.re / y.im, den = y.im + y.re * r;
            ir = r / den;
            ii = -1.0f / den;
        }
        cfloat z;
        z.re = x.re * ir - x.im * ii;
        z.im = x.re * ii + x.im * ir;
        return z;
    }
};

template <typename R> __device__ __forceinline__ R rinf() { return R(INFINITY); }

/** Pivot-search key of a candidate: |a| (cabs1), NaN never wins except in the pivot position itself. */
template <typename T>
__device__ __forceinline__ typename Ops<T>::Real pivotKey(T x, bool isTop) {
    typedef typename Ops<T>::Real R;
    R k = Ops<T>::key(x);
    if (isnan(k)) k = isTop ? rinf<R>() : R(-1);
    return k;
}

/** Warp-wide argmax of (key, idx): larger key wins, the smaller index on a tie; every lane gets the result. */
template <typename R>
__device__ __forceinline__ void warpArgmax(R& key, int& idx) {
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) {
        const R ok = __shfl_xor_sync(0xffffffffu, key, off);
        const int oi = __shfl_xor_sync(0xffffffffu, idx, off);
        if (ok > key || (ok == key && oi < idx)) {
            key = ok;
            idx = oi;
        }
    }
}

// ============================================================================ small path (n <= 64, batched)

/** Shared bytes of the small kernel: A n x (n+1), B chunk (n+1) x cb, ints piv n, perm n, flags 2. */
__host__ __device__ __forceinline__ long long smallBytes(int n, int cb, int elem) {
    return (long long)elem * ((long long)(n + 1) * n + (long long)(n + 1) * cb) + 4LL * (2 * n + 2);
}

template <typename T>
__device__ __forceinline__ void luSmall(int n, int nrhs, int cb, T* a, T* b, int* info, int smemBytes,
                                        unsigned char* smem) {
    typedef Ops<T> O;
    typedef typename O::Real R;
    const int tid = threadIdx.x, nt = blockDim.x, lane = tid & 31, warp = tid >> 5;
    const long long mat = blockIdx.x;
    T* const A = a + mat * n * n;
    T* const B = b + mat * n * nrhs;
    if (smallBytes(n, cb, (int)sizeof(T)) > smemBytes || (nrhs > 0 && cb <= 0)) {
        if (tid == 0) info[mat] = INT_MIN;
        return;
    }
    const int ld = n + 1;
    T* const sA = reinterpret_cast<T*>(smem);  // (i, c) at c * ld + i
    T* const sB = sA + ld * n;                  // (i, cc) at cc * ld + i
    int* const sPiv = reinterpret_cast<int*>(sB + ld * cb);
    int* const sPerm = sPiv + n;
    int* const sFlag = sPerm + n;               // [0] info, [1] skip this column

    for (int e = tid; e < n * n; e += nt) {
        const int i = e / n, c = e - i * n;
        sA[c * ld + i] = A[e];
    }
    if (tid == 0) sFlag[0] = 0;
    __syncthreads();

    for (int j = 0; j < n; ++j) {
        if (warp == 0) {
            R best = R(-1);
            int bi = INT_MAX;
            for (int i = j + lane; i < n; i += 32) {
                const R k = pivotKey(sA[j * ld + i], i == j);
                if (k > best) {
                    best = k;
                    bi = i;
                }
            }
            warpArgmax(best, bi);
            const int p = bi;  // row j itself always has a key >= 0, so p is a real row
            if (p != j) {
                for (int c = lane; c < n; c += 32) {
                    const T t = sA[c * ld + j];
                    sA[c * ld + j] = sA[c * ld + p];
                    sA[c * ld + p] = t;
                }
            }
            __syncwarp();
            const T piv = sA[j * ld + j];
            const bool zero = O::isZero(piv);
            if (!zero) {
                for (int i = j + 1 + lane; i < n; i += 32) {
                    sA[j * ld + i] = O::div(sA[j * ld + i], piv);
                }
            }
            if (lane == 0) {
                sPiv[j] = p;
                sFlag[1] = zero ? 1 : 0;
                if (zero && sFlag[0] == 0) sFlag[0] = j + 1;
            }
        }
        __syncthreads();
        const int r = n - j - 1;
        if (sFlag[1] == 0 && r > 0) {
            // a(j+1+ii, j+1+cc) -= l(j+1+ii) * u(j, j+1+cc)
            int ii = tid % r, cc = tid / r;
            const int dI = nt % r, dC = nt / r;
            for (int e = tid; e < r * r; e += nt) {
                const T l = sA[j * ld + j + 1 + ii];
                if (!O::isZero(l)) {
                    T* const x = sA + (j + 1 + cc) * ld + j + 1 + ii;
                    *x = O::fms(*x, l, sA[(j + 1 + cc) * ld + j]);
                }
                ii += dI;
                cc += dC;
                if (ii >= r) {
                    ii -= r;
                    ++cc;
                }
            }
        }
        __syncthreads();
    }

    for (int e = tid; e < n * n; e += nt) {
        const int i = e / n, c = e - i * n;
        A[e] = sA[c * ld + i];
    }
    const int inf = sFlag[0];
    if (tid == 0) info[mat] = inf;
    if (inf != 0 || nrhs == 0) return;  // uniform: every thread read the same flag

    if (tid == 0) {
        for (int i = 0; i < n; ++i) sPerm[i] = i;
        for (int j = 0; j < n; ++j) {
            const int p = sPiv[j];
            const int t = sPerm[j];
            sPerm[j] = sPerm[p];
            sPerm[p] = t;
        }
    }
    __syncthreads();
    for (int c0 = 0; c0 < nrhs; c0 += cb) {
        const int w = min(cb, nrhs - c0);
        for (int e = tid; e < n * w; e += nt) {
            const int i = e / w, cc = e - i * w;
            sB[cc * ld + i] = B[(long long)sPerm[i] * nrhs + c0 + cc];
        }
        __syncthreads();
        // L y = P b, L unit lower
        for (int t = 0; t < n - 1; ++t) {
            const int r = n - 1 - t;
            for (int e = tid; e < r * w; e += nt) {
                const int cc = e / r, i = t + 1 + (e - cc * r);
                const T l = sA[t * ld + i];
                if (!O::isZero(l)) sB[cc * ld + i] = O::fms(sB[cc * ld + i], l, sB[cc * ld + t]);
            }
            __syncthreads();
        }
        // U x = y
        for (int cc = tid; cc < w; cc += nt) {
            sB[cc * ld + n - 1] = O::div(sB[cc * ld + n - 1], sA[(n - 1) * ld + n - 1]);
        }
        __syncthreads();
        for (int t = n - 1; t > 0; --t) {
            // rows i < t: x_i -= U(i, t) x_t; row t-1 is then complete and divided by U(t-1, t-1)
            for (int e = tid; e < t * w; e += nt) {
                const int cc = e / t, i = e - cc * t;
                T x = sB[cc * ld + i];
                const T u = sA[t * ld + i];
                if (!O::isZero(u)) x = O::fms(x, u, sB[cc * ld + t]);
                if (i == t - 1) x = O::div(x, sA[i * ld + i]);
                sB[cc * ld + i] = x;
            }
            __syncthreads();
        }
        for (int e = tid; e < n * w; e += nt) {
            const int i = e / w, cc = e - i * w;
            B[(long long)i * nrhs + c0 + cc] = sB[cc * ld + i];
        }
        __syncthreads();
    }
}

// ============================================================================ large path: panel

constexpr int PANEL_THREADS = 512;
constexpr int PANEL_RPT = 2;  // panel rows per thread: rows <= 1024

/** Shared bytes of the register panel kernel with panel width W. */
__host__ __device__ __forceinline__ long long panelBytes(int W, int elem, int realElem) {
    return (long long)elem * (2 * 32 * W + 2 * W) + (long long)realElem * 64 + 4LL * (64 + 64 + 2 + 3 * W + 1);
}

/** Ints of the row-move table that the panel kernel leaves for the swap kernel: srcTop[W], outDst[W], outSrc[W], nOut. */
__host__ __device__ __forceinline__ int movesInts(int W) { return 3 * W + 1; }

/**
 * Factors the panel (rows jb..n-1, columns jb..jb+w-1) in registers, writes it back, leaves the copy of L21 (ld W)
 * in l21, updates perm and writes the panel's row moves to the global table moves (movesInts(W) ints) for
 * luSwap, which applies them to the columns outside the panel and solves U12.
 */
template <typename T, int W>
__device__ __forceinline__ void luPanel(int n, int jb, T* __restrict__ a, T* __restrict__ l21, int* __restrict__ perm,
                                        int* __restrict__ moves, int* __restrict__ info, int smemBytes,
                                        unsigned char* smem) {
    typedef Ops<T> O;
    typedef typename O::Real R;
    constexpr int NT = PANEL_THREADS;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int rows = n - jb;
    const int w = min(W, rows);
    if (panelBytes(W, (int)sizeof(T), (int)sizeof(R)) > smemBytes || rows > NT * PANEL_RPT || rows <= 0
        || blockDim.x != NT) {
        if (tid == 0) *info = INT_MIN;
        return;
    }
    T* const candRow = reinterpret_cast<T*>(smem);  // [2][32][W]
    T* const topRow = candRow + 2 * 32 * W;         // [2][W]
    R* const candKey = reinterpret_cast<R*>(topRow + 2 * W);  // [2][32]
    int* const candIdx = reinterpret_cast<int*>(candKey + 64);  // [2][32]
    int* const candSrc = candIdx + 64;              // [2][32]
    int* const topSrc = candSrc + 64;               // [2]
    int* const srcTop = topSrc + 2;                 // [W]: original slot of final slots 0..w-1
    int* const outDst = srcTop + W;                 // [W]: moved slots >= w
    int* const outSrc = outDst + W;                 // [W]
    int* const outCnt = outSrc + W;                 // [1]

    T v[PANEL_RPT][W];
    int src[PANEL_RPT];
#pragma unroll
    for (int q = 0; q < PANEL_RPT; ++q) {
        const int s = tid + q * NT;
        src[q] = s;
#pragma unroll
        for (int c = 0; c < W; ++c) {
            v[q][c] = (s < rows && c < w) ? a[(long long)(jb + s) * n + jb + c] : O::zero();
        }
    }
    if (tid == 0) *outCnt = 0;

#pragma unroll
    for (int jj = 0; jj < W; ++jj) {
        if (jj < w) {  // uniform
            const int buf = jj & 1;
            R bk = R(-1);
            int bs = INT_MAX;
#pragma unroll
            for (int q = 0; q < PANEL_RPT; ++q) {
                const int s = tid + q * NT;
                if (s < rows && s >= jj) {
                    const R k = pivotKey(v[q][jj], s == jj);
                    if (k > bk) {
                        bk = k;
                        bs = s;
                    }
                }
            }
            warpArgmax(bk, bs);
            if (lane == 0) {
                candKey[buf * 32 + warp] = bk;
                candIdx[buf * 32 + warp] = bs;
            }
#pragma unroll
            for (int q = 0; q < PANEL_RPT; ++q) {
                if (tid + q * NT == bs) {
#pragma unroll
                    for (int c = 0; c < W; ++c) candRow[(buf * 32 + warp) * W + c] = v[q][c];
                    candSrc[buf * 32 + warp] = src[q];
                }
            }
            if (tid == jj) {
#pragma unroll
                for (int c = 0; c < W; ++c) topRow[buf * W + c] = v[0][c];
                topSrc[buf] = src[0];
            }
            __syncthreads();
            R fk = (lane < NT / 32) ? candKey[buf * 32 + lane] : R(-1);
            int fs = (lane < NT / 32) ? candIdx[buf * 32 + lane] : INT_MAX;
            warpArgmax(fk, fs);
            const int p = fs;  // slot jj always competes with a key >= 0, so p is a real slot >= jj
            const int pw = (p % NT) >> 5;
            const T* const prow = candRow + (buf * 32 + pw) * W;
            const T pivot = prow[jj];
            const bool zero = O::isZero(pivot);
            if (tid == 0 && zero && *info == 0) *info = jb + jj + 1;
            if (p != jj) {
                if (tid == jj) {
#pragma unroll
                    for (int c = 0; c < W; ++c) v[0][c] = prow[c];
                    src[0] = candSrc[buf * 32 + pw];
                }
#pragma unroll
                for (int q = 0; q < PANEL_RPT; ++q) {
                    if (tid + q * NT == p) {
#pragma unroll
                        for (int c = 0; c < W; ++c) v[q][c] = topRow[buf * W + c];
                        src[q] = topSrc[buf];
                    }
                }
            }
            if (!zero) {
#pragma unroll
                for (int q = 0; q < PANEL_RPT; ++q) {
                    const int s = tid + q * NT;
                    if (s > jj && s < rows) {
                        const T l = O::div(v[q][jj], pivot);
                        v[q][jj] = l;
                        if (!O::isZero(l)) {
#pragma unroll
                            for (int c = jj + 1; c < W; ++c) v[q][c] = O::fms(v[q][c], l, prow[c]);
                        }
                    }
                }
            }
        }
    }

    // panel back to memory; the slot moves to shared memory, then to the global table; perm
#pragma unroll
    for (int q = 0; q < PANEL_RPT; ++q) {
        const int s = tid + q * NT;
        if (s < rows) {
#pragma unroll
            for (int c = 0; c < W; ++c) {
                if (c < w) a[(long long)(jb + s) * n + jb + c] = v[q][c];
            }
        }
        if (s >= w && s < rows) {  // copy of L21 (ld W) for the trailing gemm
#pragma unroll
            for (int c = 0; c < W; ++c) {
                if (c < w) l21[(long long)(s - w) * W + c] = v[q][c];
            }
        }
    }
    if (tid < w) srcTop[tid] = src[0];
    int pold[PANEL_RPT];
#pragma unroll
    for (int q = 0; q < PANEL_RPT; ++q) {
        const int s = tid + q * NT;
        pold[q] = 0;
        if (s < rows) pold[q] = (jb == 0) ? src[q] : perm[jb + src[q]];
        if (s >= w && s < rows && src[q] != s) {
            const int k = atomicAdd(outCnt, 1);  // at most w slots >= w are ever touched
            outDst[k] = s;
            outSrc[k] = src[q];
        }
    }
    __syncthreads();
#pragma unroll
    for (int q = 0; q < PANEL_RPT; ++q) {
        const int s = tid + q * NT;
        if (s < rows && (jb == 0 || src[q] != s)) perm[jb + s] = pold[q];
    }
    // the move table for luSwap: srcTop[t] (t < w), outDst[k], outSrc[k] (k < nOut), nOut
    const int nOut = *outCnt;
    if (tid < w) moves[tid] = srcTop[tid];
    if (tid < nOut) {
        moves[W + tid] = outDst[tid];
        moves[2 * W + tid] = outSrc[tid];
    }
    if (tid == 0) moves[3 * W] = nOut;
}

constexpr int SWAP_THREADS = 32;  // columns per block of the swap kernel (one column per thread)

/** Shared bytes of the swap kernel: L11 W x W, the move table. */
__host__ __device__ __forceinline__ long long swapBytes(int W, int elem) {
    return (long long)elem * W * W + 4LL * movesInts(W);
}

/**
 * After luPanel of panel jb: every column outside the panel (grid over the n - w columns 0..jb-1, jb+w..n-1,
 * one column per thread) gets the panel's row moves (a gather of at most 2w rows, all loads before all stores);
 * the trailing columns also get U12 = L11^-1 A12 (unit lower triangular solve, as the reference's row updates),
 * with L11 read from the factored panel into shared memory. Nothing if the panel kernel refused (*info < 0).
 */
template <typename T, int W>
__device__ __forceinline__ void luSwap(int n, int jb, T* __restrict__ a, const int* __restrict__ moves,
                                       int* __restrict__ info, int smemBytes, unsigned char* smem) {
    typedef Ops<T> O;
    const int tid = threadIdx.x, nt = blockDim.x;
    const int rows = n - jb;
    if (*info < 0) return;  // uniform: the panel kernel refused, its move table is not valid
    if (swapBytes(W, (int)sizeof(T)) > smemBytes || rows <= 0) {
        if (tid == 0 && blockIdx.x == 0) *info = INT_MIN;
        return;
    }
    const int w = min(W, rows);
    const int others = n - w;
    T* const L11 = reinterpret_cast<T*>(smem);          // [W][W], strictly lower part used
    int* const tab = reinterpret_cast<int*>(L11 + W * W);  // srcTop[W], outDst[W], outSrc[W], nOut
    const int e0 = blockIdx.x * nt;
    const bool anyTrailing = e0 + nt > jb;  // uniform: some e >= jb (column e + w) in this block
    for (int i = tid; i < movesInts(W); i += nt) tab[i] = moves[i];
    if (anyTrailing) {
        for (int e = tid; e < w * w; e += nt) {
            const int r = e / w, c = e - r * w;
            L11[r * W + c] = a[(long long)(jb + r) * n + jb + c];
        }
    }
    __syncthreads();
    const int e = e0 + tid;
    if (e >= others) return;
    const int col = e < jb ? e : e + w;
    const int* const srcTop = tab;
    const int* const outDst = tab + W;
    const int* const outSrc = tab + 2 * W;
    const int nOut = tab[3 * W];
    const bool trailing = col >= jb + w;
    if (!trailing) {
        bool moved = nOut > 0;
        for (int t = 0; t < w; ++t) moved = moved || srcTop[t] != t;
        if (!moved) return;  // leading column, no row exchanged in this panel
    }
    T x[W], y[W];
#pragma unroll
    for (int t = 0; t < W; ++t) {
        if (t < w) x[t] = a[(long long)(jb + srcTop[t]) * n + col];
    }
#pragma unroll
    for (int k = 0; k < W; ++k) {
        if (k < nOut) y[k] = a[(long long)(jb + outSrc[k]) * n + col];
    }
#pragma unroll
    for (int k = 0; k < W; ++k) {
        if (k < nOut) a[(long long)(jb + outDst[k]) * n + col] = y[k];
    }
    if (trailing) {
#pragma unroll
        for (int t = 1; t < W; ++t) {
#pragma unroll
            for (int s = 0; s < t; ++s) {
                if (t < w) {
                    const T l = L11[t * W + s];
                    if (!O::isZero(l)) x[t] = O::fms(x[t], l, x[s]);
                }
            }
        }
    }
#pragma unroll
    for (int t = 0; t < W; ++t) {
        if (t < w) a[(long long)(jb + t) * n + col] = x[t];
    }
}

/** Shared bytes of the generic panel kernel. */
__host__ __device__ __forceinline__ long long panelGenericBytes(int W, int elem, int realElem) {
    return (long long)elem * W * W + (long long)realElem * 32 + 4LL * 32;
}

/** The same panel step on global memory, any number of rows (one block, blockDim a multiple of 32). */
template <typename T, int W>
__device__ __forceinline__ void luPanelGeneric(int n, int jb, T* __restrict__ a, T* __restrict__ l21,
                                               int* __restrict__ perm, int* __restrict__ info, int smemBytes,
                                               unsigned char* smem) {
    typedef Ops<T> O;
    typedef typename O::Real R;
    const int tid = threadIdx.x, nt = blockDim.x, lane = tid & 31, warp = tid >> 5, nw = blockDim.x >> 5;
    const int rows = n - jb;
    const int w = min(W, rows);
    if (panelGenericBytes(W, (int)sizeof(T), (int)sizeof(R)) > smemBytes || rows <= 0 || (nt & 31) != 0) {
        if (tid == 0) *info = INT_MIN;
        return;
    }
    T* const L11 = reinterpret_cast<T*>(smem);                   // [W][W]
    R* const redKey = reinterpret_cast<R*>(L11 + W * W);         // [32]
    int* const redIdx = reinterpret_cast<int*>(redKey + 32);     // [32]
    if (jb == 0) {
        for (int i = tid; i < n; i += nt) perm[i] = i;
    }
    __syncthreads();
    for (int jj = 0; jj < w; ++jj) {
        const int j = jb + jj;
        R bk = R(-1);
        int bi = INT_MAX;
        for (int i = j + tid; i < n; i += nt) {
            const R k = pivotKey(a[(long long)i * n + j], i == j);
            if (k > bk) {
                bk = k;
                bi = i;
            }
        }
        warpArgmax(bk, bi);
        if (lane == 0) {
            redKey[warp] = bk;
            redIdx[warp] = bi;
        }
        __syncthreads();
        R fk = lane < nw ? redKey[lane] : R(-1);
        int fi = lane < nw ? redIdx[lane] : INT_MAX;
        warpArgmax(fk, fi);
        const int p = fi;
        if (p != j) {
            for (int c = tid; c < n; c += nt) {
                const T t = a[(long long)j * n + c];
                a[(long long)j * n + c] = a[(long long)p * n + c];
                a[(long long)p * n + c] = t;
            }
            if (tid == 0) {
                const int t = perm[j];
                perm[j] = perm[p];
                perm[p] = t;
            }
        }
        __syncthreads();
        const T pivot = a[(long long)j * n + j];
        const bool zero = O::isZero(pivot);
        if (tid == 0 && zero && *info == 0) *info = j + 1;
        if (!zero) {
            for (int i = j + 1 + tid; i < n; i += nt) {
                T* const row = a + (long long)i * n;
                const T l = O::div(row[j], pivot);
                row[j] = l;
                if (!O::isZero(l)) {
                    for (int c = j + 1; c < jb + w; ++c) row[c] = O::fms(row[c], l, a[(long long)j * n + c]);
                }
            }
        }
        __syncthreads();
    }
    for (int e = tid; e < w * w; e += nt) {
        const int r = e / w, c = e - r * w;
        L11[r * W + c] = a[(long long)(jb + r) * n + jb + c];
    }
    for (long long e = tid; e < (long long)(rows - w) * w; e += nt) {  // copy of L21 (ld W) for the trailing gemm
        const long long r = e / w;
        const int c = (int)(e - r * w);
        l21[r * W + c] = a[(jb + w + r) * n + jb + c];
    }
    __syncthreads();
    for (int col = jb + w + tid; col < n; col += nt) {
        T x[W];
#pragma unroll
        for (int t = 0; t < W; ++t) {
            if (t < w) x[t] = a[(long long)(jb + t) * n + col];
        }
#pragma unroll
        for (int t = 1; t < W; ++t) {
#pragma unroll
            for (int s = 0; s < t; ++s) {
                if (t < w) {
                    const T l = L11[t * W + s];
                    if (!O::isZero(l)) x[t] = O::fms(x[t], l, x[s]);
                }
            }
        }
#pragma unroll
        for (int t = 0; t < W; ++t) {
            if (t < w) a[(long long)(jb + t) * n + col] = x[t];
        }
    }
}

// ============================================================================ large path: solve helpers

constexpr int SB = 128;           // diagonal block size of the solve
constexpr int INV_THREADS = 1024; // threads of the inversion kernel: 8 rows x 128 columns per pass

__host__ __device__ __forceinline__ long long invBytes(int elem) {
    return (long long)elem * (SB * SB + 2 * SB);
}

/**
 * Inverse of diagonal block blockIdx.x of L (blockIdx.y == 0, unit lower) or U (blockIdx.y == 1, upper),
 * written as an SB x SB row-major block (identity/zero outside the block's size) to
 * inv + (blockIdx.y * gridDim.x + blockIdx.x) * SB * SB. Nothing if *info != 0.
 */
template <typename T>
__device__ __forceinline__ void luInvDiag(int n, const T* __restrict__ a, T* __restrict__ inv,
                                          const int* __restrict__ info, int smemBytes, unsigned char* smem) {
    typedef Ops<T> O;
    constexpr int RSTEP = INV_THREADS / SB;  // 8
    constexpr int KN = SB / RSTEP;           // 16
    if (*info != 0) return;
    const int tid = threadIdx.x;
    if (invBytes((int)sizeof(T)) > smemBytes || blockDim.x != INV_THREADS) {
        return;  // the host checks the sizes; nothing sensible to report from here
    }
    const int bi = blockIdx.x, upper = blockIdx.y;
    const int s0 = bi * SB, sb = min(SB, n - s0);
    T* const X = inv + ((long long)upper * gridDim.x + bi) * SB * SB;
    T* const sM = reinterpret_cast<T*>(smem);  // [SB][SB]
    T* const xrow = sM + SB * SB;              // [2][SB]
    for (int e = tid; e < sb * sb; e += INV_THREADS) {
        const int r = e / sb, c = e - r * sb;
        sM[r * SB + c] = a[(long long)(s0 + r) * n + s0 + c];
    }
    const int c = tid % SB, r0 = tid / SB;
    T x[KN];
#pragma unroll
    for (int k = 0; k < KN; ++k) x[k] = (r0 + k * RSTEP == c) ? O::one() : O::zero();
    __syncthreads();
    if (upper == 0) {
        // X = L^-1: for t ascending, rows r > t: X(r, :) -= L(r, t) X(t, :)
        for (int t = 0; t < sb - 1; ++t) {
            const int buf = t & 1;
            if (r0 == t % RSTEP) {
#pragma unroll
                for (int k = 0; k < KN; ++k) {
                    if (r0 + k * RSTEP == t) xrow[buf * SB + c] = x[k];
                }
            }
            __syncthreads();
            const T xt = xrow[buf * SB + c];
            if (c <= t && !O::isZero(xt)) {
#pragma unroll
                for (int k = 0; k < KN; ++k) {
                    const int r = r0 + k * RSTEP;
                    if (r > t && r < sb) x[k] = O::fms(x[k], sM[r * SB + t], xt);
                }
            }
        }
    } else {
        // X = U^-1: for t descending, X(t, :) /= U(t, t), then rows r < t: X(r, :) -= U(r, t) X(t, :)
        for (int t = sb - 1; t >= 0; --t) {
            const int buf = t & 1;
            if (r0 == t % RSTEP) {
                const T d = sM[t * SB + t];
#pragma unroll
                for (int k = 0; k < KN; ++k) {
                    if (r0 + k * RSTEP == t) {
                        x[k] = O::div(x[k], d);
                        xrow[buf * SB + c] = x[k];
                    }
                }
            }
            __syncthreads();
            const T xt = xrow[buf * SB + c];
            if (c >= t && !O::isZero(xt)) {
#pragma unroll
                for (int k = 0; k < KN; ++k) {
                    const int r = r0 + k * RSTEP;
                    if (r < t) x[k] = O::fms(x[k], sM[r * SB + t], xt);
                }
            }
        }
    }
#pragma unroll
    for (int k = 0; k < KN; ++k) X[(r0 + k * RSTEP) * SB + c] = x[k];
}

/** dst row i = src row perm[i] (perm == nullptr: row i), rows of ncols words; nothing if *info != 0. */
template <typename U>
__device__ __forceinline__ void rowCopy(int n, int ncols, const U* __restrict__ src, U* __restrict__ dst,
                                        const int* __restrict__ perm, const int* __restrict__ info) {
    if (*info != 0) return;
    for (int i = blockIdx.y; i < n; i += gridDim.y) {
        const int si = perm != nullptr ? perm[i] : i;
        for (int c = blockIdx.x * blockDim.x + threadIdx.x; c < ncols; c += gridDim.x * blockDim.x) {
            dst[(long long)i * ncols + c] = src[(long long)si * ncols + c];
        }
    }
}

}  // namespace lu_detail

extern __shared__ __align__(16) unsigned char sprout_lu_smem[];

// ---- small path: grid (batch), block 64/128/256, shared lu_detail::smallBytes(n, cb, sizeof(T))
extern "C" __global__ void __launch_bounds__(256)
sprout_lu_small_f32(int n, int nrhs, int cb, float* a, float* b, int* info, int smemBytes) {
    lu_detail::luSmall<float>(n, nrhs, cb, a, b, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(256)
sprout_lu_small_f64(int n, int nrhs, int cb, double* a, double* b, int* info, int smemBytes) {
    lu_detail::luSmall<double>(n, nrhs, cb, a, b, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(256)
sprout_lu_small_c64(int n, int nrhs, int cb, float* a, float* b, int* info, int smemBytes) {
    lu_detail::luSmall<lu_detail::cfloat>(n, nrhs, cb, reinterpret_cast<lu_detail::cfloat*>(a),
                                          reinterpret_cast<lu_detail::cfloat*>(b), info, smemBytes, sprout_lu_smem);
}

// ---- panel (rows <= 1024): grid 1, block 512, shared lu_detail::panelBytes(W, sizeof(T), sizeof(Real));
//      moves: lu_detail::movesInts(W) ints of scratch, read by the swap kernel that follows
extern "C" __global__ void __launch_bounds__(512, 1)
sprout_lu_panel_f32(int n, int jb, float* a, float* l21, int* perm, int* moves, int* info, int smemBytes) {
    lu_detail::luPanel<float, 32>(n, jb, a, l21, perm, moves, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(512, 1)
sprout_lu_panel_f64(int n, int jb, double* a, double* l21, int* perm, int* moves, int* info, int smemBytes) {
    lu_detail::luPanel<double, 16>(n, jb, a, l21, perm, moves, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(512, 1)
sprout_lu_panel_c64(int n, int jb, float* a, float* l21, int* perm, int* moves, int* info, int smemBytes) {
    lu_detail::luPanel<lu_detail::cfloat, 16>(n, jb, reinterpret_cast<lu_detail::cfloat*>(a),
                                              reinterpret_cast<lu_detail::cfloat*>(l21), perm, moves, info, smemBytes,
                                              sprout_lu_smem);
}

// ---- row moves + U12 after a panel: grid ceil((n - w) / 32), block 32, shared lu_detail::swapBytes(W, sizeof(T))
extern "C" __global__ void __launch_bounds__(32)
sprout_lu_swap_f32(int n, int jb, float* a, const int* moves, int* info, int smemBytes) {
    lu_detail::luSwap<float, 32>(n, jb, a, moves, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(32)
sprout_lu_swap_f64(int n, int jb, double* a, const int* moves, int* info, int smemBytes) {
    lu_detail::luSwap<double, 16>(n, jb, a, moves, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(32)
sprout_lu_swap_c64(int n, int jb, float* a, const int* moves, int* info, int smemBytes) {
    lu_detail::luSwap<lu_detail::cfloat, 16>(n, jb, reinterpret_cast<lu_detail::cfloat*>(a), moves, info, smemBytes,
                                             sprout_lu_smem);
}

// ---- panel, any number of rows: grid 1, block 1024, shared lu_detail::panelGenericBytes(W, ...)
extern "C" __global__ void __launch_bounds__(1024)
sprout_lu_panel_generic_f32(int n, int jb, float* a, float* l21, int* perm, int* info, int smemBytes) {
    lu_detail::luPanelGeneric<float, 32>(n, jb, a, l21, perm, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(1024)
sprout_lu_panel_generic_f64(int n, int jb, double* a, double* l21, int* perm, int* info, int smemBytes) {
    lu_detail::luPanelGeneric<double, 16>(n, jb, a, l21, perm, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(1024)
sprout_lu_panel_generic_c64(int n, int jb, float* a, float* l21, int* perm, int* info, int smemBytes) {
    lu_detail::luPanelGeneric<lu_detail::cfloat, 16>(n, jb, reinterpret_cast<lu_detail::cfloat*>(a),
                                                     reinterpret_cast<lu_detail::cfloat*>(l21), perm, info, smemBytes,
                                                     sprout_lu_smem);
}

// ---- inverses of the diagonal blocks: grid (ceil(n / 128), 2), block 1024, shared lu_detail::invBytes(sizeof(T))
extern "C" __global__ void __launch_bounds__(1024)
sprout_lu_invdiag_f32(int n, const float* a, float* inv, const int* info, int smemBytes) {
    lu_detail::luInvDiag<float>(n, a, inv, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(1024)
sprout_lu_invdiag_f64(int n, const double* a, double* inv, const int* info, int smemBytes) {
    lu_detail::luInvDiag<double>(n, a, inv, info, smemBytes, sprout_lu_smem);
}
extern "C" __global__ void __launch_bounds__(1024)
sprout_lu_invdiag_c64(int n, const float* a, float* inv, const int* info, int smemBytes) {
    lu_detail::luInvDiag<lu_detail::cfloat>(n, reinterpret_cast<const lu_detail::cfloat*>(a),
                                            reinterpret_cast<lu_detail::cfloat*>(inv), info, smemBytes, sprout_lu_smem);
}

// ---- row gather / copy guarded by info: grid (ceil(ncols / 256) <= 64, min(n, 65535)), block 256
extern "C" __global__ void __launch_bounds__(256)
sprout_lu_rowcopy_b32(int n, int ncols, const unsigned int* src, unsigned int* dst, const int* perm, const int* info) {
    lu_detail::rowCopy<unsigned int>(n, ncols, src, dst, perm, info);
}
extern "C" __global__ void __launch_bounds__(256)
sprout_lu_rowcopy_b64(int n, int ncols, const unsigned long long* src, unsigned long long* dst, const int* perm,
                      const int* info) {
    lu_detail::rowCopy<unsigned long long>(n, ncols, src, dst, perm, info);
}
