// Batched symmetric eigen-solver: parallel cyclic Jacobi, one thread block per matrix.
//
// Method and why
// --------------
// Two-sided cyclic Jacobi with the round-robin ("chess tournament") ordering: the m = n + (n odd) indices are
// paired into h = m/2 disjoint pairs, and the m - 1 steps of a sweep pair every index with every other exactly
// once. In step r, pair 0 is (m-1, r) and pair P >= 1 is ((r+P) mod (m-1), (r-P) mod (m-1)). The h rotations of
// a step touch disjoint rows/columns, so they are computed and applied all at once. Jacobi is chosen over
// tridiagonalisation + QR because every step is O(n^2) independent work with two barriers (the whole block stays
// busy, no serial Householder chain), the matrix and the accumulated rotations of a 64 x 64 problem fit in
// shared memory, and it is accurate (the rotations are orthogonal to working precision; small eigenvalues get
// small absolute errors relative to ||A||). For odd n a zero dummy row/column n pads the matrix to even m: every
// rotation that pairs an index with the dummy sees a_pq == 0 and is the identity, so the dummy never mixes in.
//
// One step (r):
//   1. rotation phase (h threads): pair P = (p, q) computes the symmetric Schur rotation of its 2x2 block
//      (Golub & Van Loan 8.4.1): theta = (a_qq - a_pp) / (2 a_pq), t = sign(theta) / (|theta| + sqrt(theta^2+1)),
//      c = 1/sqrt(1+t^2), s = t c; it writes a_pp - t a_pq, a_qq + t a_pq and an exact zero a_pq = a_qp itself.
//      (a_pq == 0 gives the identity; theta^2 overflowing gives t = 0, also the identity with a_pq dropped.)
//   2. update phase (all threads): A <- J^T A J where J is the product of the h rotations. The matrix is
//      partitioned into h x h blocks of 2x2 elements (rows of pair P x columns of pair Q); one thread owns a
//      block and applies the row rotation of P and the column rotation of Q in registers (4 loads, 4 stores, no
//      intermediate barrier, in place); lanes run along Q, so a thread's Q (and its pair/rotation data, loaded as one
//      int2 and one float2/double2) stays fixed when h divides the block size. Diagonal blocks (P == Q) were
//      finished in phase 1. The eigenvector matrix is accumulated as V^T (V <- V J rotates two rows of V^T): one
//      thread per (pair, column) element pair, lanes along the pairs, each thread keeping its pair.
// Convergence: before each sweep off(A)^2 = sum_{i != j} a_ij^2 is compared with (eps ||A||_F)^2 (both on A
// scaled by 1/max|a_ij| against overflow); cyclic Jacobi converges quadratically, so the test costs at most one
// extra sweep; the sweep count is capped (MAX_SWEEPS). Then the diagonal is ranked (a total order: NaN last,
// ties by index), the k smallest are written in ascending order, and each eigenvector's sign is fixed so that
// its component of largest magnitude (the first on a tie) is positive, as the Java reference does.
//
// Two storage variants of the same code (eigen_detail::jacobi):
//   sprout_symeig_small_{f32,f64}:  n <= 64 (or whatever fits): A (m x (m+1), padded so the diagonal reads of
//     phase 1 are conflict-free), V^T (m x (n+1)) and the tables in shared memory. f32 n = 64: 35 KiB,
//     f64 n = 64: 69 KiB (the launcher opts in above 48 KiB).
//   sprout_symeig_global_{f32,f64}: any n: A and V^T in a global scratch buffer (per matrix m*m + m*n + 3m
//     values of T and 2m ints), only the reduction scratch in shared memory; up to 512 threads.
//
// Performance model (f32, n = 64, H100)
// -------------------------------------
// Per step and thread (256 threads): 4 blocks of A (2 vector LDS of pair data + 4 LDS + 4 STS + 24 FMA each) and
// 8 element pairs of V^T (2 LDS + 2 STS): ~610 warp-wide shared instructions per step and block, so the update
// is bound by the shared-memory pipe at roughly 650 cycles a step; 63 steps a sweep; random 64 x 64 matrices
// converge in 7 sweeps (f32) / 8 (f64) (counted in a CPU emulation of this kernel). 10,000 matrices on 132 SMs:
// 10^4 * 441 steps * 610 / 132 = 20 M shared-pipe cycles per SM, ~12 ms at 1.75 GHz; ~15 ms expected with the
// rotation phases and barriers (6 resident blocks of 35 KiB per SM hide each other's rotation latency); values
// only ~40% less. The global variant is bound by L2/DRAM traffic: ~4 n^2 values read and written per step,
// (m - 1) steps per sweep (n = 576: ~0.2-0.4 s per wave of 132-264 matrices).
//
// Kernel parameters are checked by the host launcher (CudaLinalg); every kernel also receives the shared/scratch
// sizes the launcher computed and refuses (writes NaN eigenvalues) if they are smaller than it needs.

#include <cmath>

namespace eigen_detail {

template <typename T> struct Eps;
template <> struct Eps<float> {
    static __device__ __forceinline__ float value() { return 1.1920928955078125e-07f; }  // 2^-23
};
template <> struct Eps<double> {
    static __device__ __forceinline__ double value() { return 2.220446049250313080847e-16; }  // 2^-52
};

/** Sweeps allowed before giving up (quadratic convergence needs 6-12 for the sizes Sprout meets). */
constexpr int MAX_SWEEPS = 40;

template <typename T> __device__ __forceinline__ T qnan();
template <> __device__ __forceinline__ float qnan<float>() { return __int_as_float(0x7fffffff); }
template <> __device__ __forceinline__ double qnan<double>() { return __longlong_as_double(0x7fffffffffffffffLL); }

template <typename T> struct Vec2;
template <> struct Vec2<float> { typedef float2 type; };
template <> struct Vec2<double> { typedef double2 type; };

/** Where one matrix's working data lives (shared memory or global scratch). */
template <typename T> struct Work {
    typedef typename Vec2<T>::type T2;
    T* A;       // m x m, leading dimension lda; lower and upper triangle both kept
    int lda;
    T* VT;      // m x n, leading dimension ldv (row j = eigenvector j); nullptr for values only
    int ldv;
    T2* cs;     // h: (c, s) of each pair of the current step (aligned to sizeof(T2))
    T* diag;    // m: eigenvalues after convergence
    T* sgn;     // m: sign of the selected eigenvectors
    T* red;     // blockDim.x: reduction scratch (always in shared memory)
    int2* pairs; // h: (p, q) of each pair of the current step
    int* perm;  // m: perm[r] = index of the r-th smallest eigenvalue
};

/** Block-wide sum or max; blockDim.x must be a power of two; every thread gets the result. */
template <typename T, bool MAX>
__device__ __forceinline__ T blockReduce(T v, T* red) {
    const int tid = threadIdx.x;
    __syncthreads();  // red may still be read by the previous reduction
    red[tid] = v;
    __syncthreads();
    for (int s = blockDim.x >> 1; s > 0; s >>= 1) {
        if (tid < s) {
            red[tid] = MAX ? fmax(red[tid], red[tid + s]) : red[tid] + red[tid + s];
        }
        __syncthreads();
    }
    return red[0];
}

/** Sort key: NaN after everything (so ranks form a permutation even with NaN input). */
template <typename T> __device__ __forceinline__ T sortKey(T x) {
    return isnan(x) ? T(INFINITY) : x;
}

/**
 * Jacobi eigen-decomposition of the symmetric n x n matrix a (lower triangle read), writing the k smallest
 * eigenvalues to w[0..k) and, if ws.VT != nullptr, the eigenvectors to v (n x k, row-major, as columns).
 */
template <typename T>
__device__ __forceinline__ void jacobi(int n, int k, const T* __restrict__ a, T* __restrict__ w, T* __restrict__ v,
                                       const Work<T>& ws) {
    const int tid = threadIdx.x, nt = blockDim.x;
    const int m = n + (n & 1), h = m >> 1;
    T* const A = ws.A;
    T* const VT = ws.VT;
    const int lda = ws.lda, ldv = ws.ldv;

    // ---- load the lower triangle (rows of a read contiguously), mirror it, zero the dummy row/column
    T amax = T(0);
    for (int e = tid; e < m * m; e += nt) {
        const int i = e / m, j = e - i * m;
        if (j <= i) {
            const T x = (i < n) ? a[(long long)i * n + j] : T(0);
            A[i * lda + j] = x;
            A[j * lda + i] = x;
            amax = fmax(amax, fabs(x));
        }
    }
    if (VT != nullptr) {
        for (int e = tid; e < m * n; e += nt) {
            const int r = e / n, c = e - r * n;
            VT[r * ldv + c] = (r == c) ? T(1) : T(0);
        }
    }
    amax = blockReduce<T, true>(amax, ws.red);
    // scale only enters the norms (a power of two would be exact, but the test is not that sensitive)
    const T scale = (amax > T(0) && amax < T(INFINITY)) ? T(1) / amax : T(1);
    T f = T(0);
    for (int e = tid; e < m * m; e += nt) {
        const int i = e / m, j = e - i * m;
        const T x = A[i * lda + j] * scale;
        f += x * x;
    }
    const T norm2 = blockReduce<T, false>(f, ws.red);
    const T thr = Eps<T>::value() * Eps<T>::value() * norm2;

    const int nblk = h * h;            // 2x2 blocks of A
    const int dPa = nt / h, dQa = nt - (nt / h) * h;
    const int nvp = h * n;             // element pairs of V^T: e -> (pair e % h, column e / h)
    const int div = nt / h, dPv = nt - (nt / h) * h;

    for (int sweep = 0; sweep < MAX_SWEEPS; ++sweep) {
        T o = T(0);
        for (int e = tid; e < m * m; e += nt) {
            const int i = e / m, j = e - i * m;
            if (i != j) {
                const T x = A[i * lda + j] * scale;
                o += x * x;
            }
        }
        const T off2 = blockReduce<T, false>(o, ws.red);
        if (!(off2 > thr)) {
            break;  // converged (or NaN): every thread saw the same off2
        }
        for (int r = 0; r < m - 1; ++r) {
            // ---- 1. rotations of the h pairs
            for (int P = tid; P < h; P += nt) {
                int p, q;
                if (P == 0) {
                    p = m - 1;
                    q = r;
                } else {
                    p = r + P;
                    if (p >= m - 1) p -= m - 1;
                    q = r - P;
                    if (q < 0) q += m - 1;
                }
                ws.pairs[P] = make_int2(p, q);
                const T apq = A[p * lda + q];
                T c = T(1), s = T(0);
                if (apq != T(0)) {
                    const T app = A[p * lda + p], aqq = A[q * lda + q];
                    const T theta = (aqq - app) / (T(2) * apq);
                    T t = T(1) / (fabs(theta) + sqrt(T(1) + theta * theta));
                    if (theta < T(0)) t = -t;
                    c = T(1) / sqrt(T(1) + t * t);
                    s = t * c;
                    A[p * lda + p] = app - t * apq;
                    A[q * lda + q] = aqq + t * apq;
                    A[p * lda + q] = T(0);
                    A[q * lda + p] = T(0);
                }
                typename Work<T>::T2 cs2;
                cs2.x = c;
                cs2.y = s;
                ws.cs[P] = cs2;
            }
            __syncthreads();
            // ---- 2a. A <- J^T A J on the off-diagonal 2x2 blocks; lanes run along Q (columns), so the pair data
            // of Q is reloaded only when it changes (never, when h divides the block size)
            {
                int P = tid / h, Q = tid - (tid / h) * h;
                int cachedQ = -1;
                int p2 = 0, q2 = 0;
                T c2 = T(1), s2 = T(0);
                for (int e = tid; e < nblk; e += nt) {
                    if (Q != cachedQ) {
                        const int2 pq = ws.pairs[Q];
                        const typename Work<T>::T2 cs = ws.cs[Q];
                        p2 = pq.x;
                        q2 = pq.y;
                        c2 = cs.x;
                        s2 = cs.y;
                        cachedQ = Q;
                    }
                    if (P != Q) {
                        const int2 pq = ws.pairs[P];
                        const typename Work<T>::T2 cs = ws.cs[P];
                        const T c1 = cs.x, s1 = cs.y;
                        T* const rp = A + pq.x * lda;
                        T* const rq = A + pq.y * lda;
                        const T b00 = rp[p2], b01 = rp[q2], b10 = rq[p2], b11 = rq[q2];
                        // rows: (J^T B): row p = c1 row p - s1 row q, row q = s1 row p + c1 row q
                        const T x00 = c1 * b00 - s1 * b10, x01 = c1 * b01 - s1 * b11;
                        const T x10 = s1 * b00 + c1 * b10, x11 = s1 * b01 + c1 * b11;
                        // columns: (X J): col p = c2 col p - s2 col q, col q = s2 col p + c2 col q
                        rp[p2] = c2 * x00 - s2 * x01;
                        rp[q2] = s2 * x00 + c2 * x01;
                        rq[p2] = c2 * x10 - s2 * x11;
                        rq[q2] = s2 * x10 + c2 * x11;
                    }
                    Q += dQa;
                    P += dPa;
                    if (Q >= h) {
                        Q -= h;
                        ++P;
                    }
                }
            }
            // ---- 2b. V <- V J, i.e. rows p, q of V^T; lanes run along the pairs, a thread keeps its pair (when h
            // divides the block size) and walks down the columns
            if (VT != nullptr) {
                int P = tid - (tid / h) * h, i = tid / h;
                int cachedP = -1;
                T* vp = VT;
                T* vq = VT;
                T c = T(1), s = T(0);
                for (int e = tid; e < nvp; e += nt) {
                    if (P != cachedP) {
                        const int2 pq = ws.pairs[P];
                        const typename Work<T>::T2 cs = ws.cs[P];
                        vp = VT + pq.x * ldv;
                        vq = VT + pq.y * ldv;
                        c = cs.x;
                        s = cs.y;
                        cachedP = P;
                    }
                    const T xp = vp[i], xq = vq[i];
                    vp[i] = c * xp - s * xq;
                    vq[i] = s * xp + c * xq;
                    P += dPv;
                    i += div;
                    if (P >= h) {
                        P -= h;
                        ++i;
                    }
                }
            }
            __syncthreads();
        }
    }

    // ---- eigenvalues, ranks, output
    for (int i = tid; i < n; i += nt) {
        ws.diag[i] = A[i * lda + i];
    }
    __syncthreads();
    for (int i = tid; i < n; i += nt) {
        const T ki = sortKey(ws.diag[i]);
        int rank = 0;
        for (int j = 0; j < n; ++j) {
            const T kj = sortKey(ws.diag[j]);
            rank += (kj < ki || (kj == ki && j < i)) ? 1 : 0;
        }
        ws.perm[rank] = i;
    }
    __syncthreads();
    for (int r = tid; r < k; r += nt) {
        w[r] = ws.diag[ws.perm[r]];
    }
    if (VT != nullptr) {
        for (int r = tid; r < k; r += nt) {
            const T* const row = VT + ws.perm[r] * ldv;
            T best = T(-1), val = T(1);
            for (int i = 0; i < n; ++i) {
                const T x = row[i];
                if (fabs(x) > best) {
                    best = fabs(x);
                    val = x;
                }
            }
            ws.sgn[r] = val < T(0) ? T(-1) : T(1);
        }
        __syncthreads();
        for (long long e = tid; e < (long long)n * k; e += nt) {
            const int i = (int)(e / k), r = (int)(e - (long long)i * k);
            v[e] = ws.sgn[r] * VT[ws.perm[r] * ldv + i];
        }
    }
}

/** Shared-memory variant: layout (T) A m*(m+1) | V^T m*(n+1) if wanted | cs m | diag m | sgn m | red nt,
 *  then (int) pairs m | perm m. */
template <typename T>
__device__ __forceinline__ void symeigSmall(int n, int k, int wantV, const T* a, T* w, T* v, int smemBytes,
                                            unsigned char* smem) {
    const int m = n + (n & 1), nt = blockDim.x;
    const long long need = (long long)sizeof(T) * ((long long)m * (m + 1) + (wantV ? (long long)m * (n + 1) : 0)
                                                   + 3LL * m + nt) + 4LL * 2 * m;
    const long long b = blockIdx.x;
    T* const wb = w + b * k;
    if (need > smemBytes) {
        for (int r = threadIdx.x; r < k; r += nt) wb[r] = qnan<T>();
        return;
    }
    Work<T> ws;
    T* p = reinterpret_cast<T*>(smem);
    ws.A = p;
    ws.lda = m + 1;
    p += m * (m + 1);
    if (wantV) {
        ws.VT = p;
        ws.ldv = n + 1;
        p += m * (n + 1);
    } else {
        ws.VT = nullptr;
        ws.ldv = 0;
    }
    ws.cs = reinterpret_cast<typename Work<T>::T2*>(p);  // offset m(m+1) [+ m(n+1)] values: m even, so aligned
    p += m;
    ws.diag = p;
    p += m;
    ws.sgn = p;
    p += m;
    ws.red = p;
    p += nt;
    ws.pairs = reinterpret_cast<int2*>(p);  // offset even count of values (m, nt even)
    ws.perm = reinterpret_cast<int*>(ws.pairs + m / 2);
    jacobi<T>(n, k, a + b * n * n, wb, wantV ? v + b * n * k : nullptr, ws);
}

/** Global-scratch variant: per matrix (T) A m*m | V^T m*n | cs m | diag m | sgn m at scratchT + b*strideT,
 *  (int) pairs m | perm m at scratchI + b*strideI; shared memory holds only the reduction scratch. */
template <typename T>
__device__ __forceinline__ void symeigGlobal(int n, int k, int wantV, const T* a, T* w, T* v, T* scratchT,
                                             long long strideT, int* scratchI, long long strideI, int smemBytes,
                                             unsigned char* smem) {
    const int m = n + (n & 1), nt = blockDim.x;
    const long long b = blockIdx.x;
    T* const wb = w + b * k;
    if ((long long)sizeof(T) * nt > smemBytes || strideT < (long long)m * m + (long long)m * n + 3LL * m
        || strideI < 2LL * m || (strideT & 1) != 0 || (strideI & 1) != 0) {
        for (int r = threadIdx.x; r < k; r += nt) wb[r] = qnan<T>();
        return;
    }
    Work<T> ws;
    T* p = scratchT + b * strideT;
    ws.A = p;
    ws.lda = m;
    p += (long long)m * m;
    if (wantV) {
        ws.VT = p;
        ws.ldv = n;
    } else {
        ws.VT = nullptr;
        ws.ldv = 0;
    }
    p += (long long)m * n;
    ws.cs = reinterpret_cast<typename Work<T>::T2*>(p);  // b * strideT + m(m+n) values: both even, so aligned
    p += m;
    ws.diag = p;
    p += m;
    ws.sgn = p;
    ws.red = reinterpret_cast<T*>(smem);
    ws.pairs = reinterpret_cast<int2*>(scratchI + b * strideI);
    ws.perm = reinterpret_cast<int*>(ws.pairs + m / 2);
    jacobi<T>(n, k, a + b * (long long)n * n, wb, wantV ? v + b * (long long)n * k : nullptr, ws);
}

}  // namespace eigen_detail

extern __shared__ __align__(16) unsigned char sprout_eigen_smem[];

// grid (batch), block (power of two, <= 256), dynamic shared memory as computed by CudaLinalg.smallEigenBytes.
// f32 is held to 32 registers (no spills) so that register use never limits residency below the shared memory's
// 6 blocks per SM at n = 64.
extern "C" __global__ void __launch_bounds__(256, 8)
sprout_symeig_small_f32(int n, int k, int wantV, const float* a, float* w, float* v, int smemBytes) {
    eigen_detail::symeigSmall<float>(n, k, wantV, a, w, v, smemBytes, sprout_eigen_smem);
}

extern "C" __global__ void __launch_bounds__(256)
sprout_symeig_small_f64(int n, int k, int wantV, const double* a, double* w, double* v, int smemBytes) {
    eigen_detail::symeigSmall<double>(n, k, wantV, a, w, v, smemBytes, sprout_eigen_smem);
}

// grid (matrices in this chunk), block (power of two, <= 512), dynamic shared memory blockDim * sizeof(T)
extern "C" __global__ void __launch_bounds__(512, 1)
sprout_symeig_global_f32(int n, int k, int wantV, const float* a, float* w, float* v, float* scratchT,
                         long long strideT, int* scratchI, long long strideI, int smemBytes) {
    eigen_detail::symeigGlobal<float>(n, k, wantV, a, w, v, scratchT, strideT, scratchI, strideI, smemBytes, sprout_eigen_smem);
}

extern "C" __global__ void __launch_bounds__(512, 1)
sprout_symeig_global_f64(int n, int k, int wantV, const double* a, double* w, double* v, double* scratchT,
                         long long strideT, int* scratchI, long long strideI, int smemBytes) {
    eigen_detail::symeigGlobal<double>(n, k, wantV, a, w, v, scratchT, strideT, scratchI, strideI, smemBytes, sprout_eigen_smem);
}
