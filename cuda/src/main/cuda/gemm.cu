// gemm.cu: Sprout's matrix products on CUDA (sgemm, TF32 sgemm, dgemm, cgemm; all batched).
//
// Semantics (the Java reference, dev.sprout.backend.java.JavaGemm): row-major,
//   C[z] = alpha * op(A[z]) op(B[z]) + beta * C[z]   for z in [0, batch)
// op(A) is m x k, op(B) is k x n; ld* are row strides of the matrices as stored, stride* element distances
// between batch items (0 broadcasts an operand). beta == 0 writes C without reading it (NaN in C does not
// survive). The host (CudaGemm.java) has checked shapes, bounds and aliasing, and launches with k = 0 when
// A and B must not be read (k == 0 or alpha == 0). Pointers arrive already offset. Complex data is float2
// (re, im); trans 2 (H) conjugates that operand. Batch item z = blockIdx.z: the host launches at most 65535
// items per launch (longer batches in chunks, with offset pointers); the general kernels also loop over z and
// tile rows past gridDim, so any grid is right for them.
//
// Performance model
// -----------------
// sprout_sgemm_128x128_{nn,nt,tn,tt}[_v4]  (the default FP32 path)
//   Block tile 128 (m) x 128 (n) x 8 (k), 256 threads, each thread an 8x8 register tile made of four 4x4
//   quadrants (rows ty*4 + {0,64}, columns tx*4 + {0,64}), so that its operands are two float4 reads of A and
//   two of B per k step: 4 LDS.128 per 64 FFMA. A warp covers 4 (ty) x 8 (tx) threads, so its A reads are 4
//   distinct float4 (64 B) and its B reads 8 distinct float4 (128 B): one shared-memory wavefront each.
//   Shared memory holds both tiles k-major ([8][132] floats each; the 4-float pad makes the transposed stores of
//   a k-contiguous operand conflict-free) and is double-buffered: 2 x 2 x 8 x 132 x 4 B = 16.5 KiB. Each
//   k step, a thread loads the next tile's 2 float4 (one of A, one of B) from global memory into registers
//   before computing on the current tile and stores them to the other buffer after: one __syncthreads per tile,
//   and the global latency hides behind 512 FFMA per thread. An operand stored k-contiguous (A as N, B as T) is
//   read as 128 rows x 2 float4 (a full 32-byte sector per thread pair) and stored transposed; an operand stored
//   m/n-contiguous is read as 8 rows x 32 float4 and stored as is. The four layouts are template instances.
//   _v4: float4 global loads/stores (the host picks it when lda, ldb, ldc, the offsets and the batch strides
//   are multiples of 4); otherwise the same kernel with scalar loads. Edges: every load and store is predicated
//   (a float4 only when all 4 elements are inside), out-of-range elements read as 0.
//   Registers: 64 accumulators + 16 operands + 8 prefetch + addresses, capped at 128 by __launch_bounds__(256, 2)
//   so two blocks (16 warps) share an SM (ptxas, sm_90: 127-128 registers, no spills). No loops besides k: one
//   block per tile (grid x = tiles), visited in groups of 8 tile rows (L2 reuse of the B panels).
// sprout_sgemm_tf32_{nn,nt,tn,tt}[_v4]  (second variant: tensor cores, inputs rounded to TF32, ~1e-3 relative)
//   Block tile 128 x 128 x 16, 256 threads = 8 warps as 2 (m) x 4 (n), each warp 64 x 32 = 4 x 4 mma.sync
//   m16n8k8 tiles (64 fp32 accumulators per thread). Operands are rounded with cvt.rna.tf32.f32 once, when
//   stored to shared memory. Shared layout per operand: k-contiguous as [128][20] (m/n-major), m/n-contiguous
//   as [16][136] (k-major); both make the fragment reads (8 groups x 4 lanes) hit 32 distinct banks.
//   Double-buffered like the SIMT kernel: 2 x 2 x 2560 x 4 B = 40 KiB. Each thread prefetches 2 float4 of A and
//   2 of B per tile. __launch_bounds__(256, 2): 124-128 registers on sm_90, no spills.
// sprout_sgemm_general, sprout_dgemm, sprout_cgemm  (one template on the element type)
//   Block tile 64 x 64 x 16, 256 threads as 16 x 16, each thread 4 x 4 outputs at rows ty + 16 i and columns
//   tx + 16 j; single-buffered shared memory [16][65] per operand, scalar loads, every element predicated.
//   Obviously right for every shape, transpose, ld, offset and stride: the reference path. It is the whole of
//   dgemm and cgemm, and sgemm's path for m or n <= 64, small grids (< 32 tiles of 128 x 128), and k = 0 /
//   alpha = 0. cgemm conjugates (H) while loading to shared memory, so the inner loop is a plain complex FMA.
//   sm_90: 64 (f32), 80 (f64), 64 (c64) registers; 8.1 / 16.3 / 16.3 KiB shared memory.

#include <cstdint>

namespace gemm_detail {

constexpr int THREADS = 256;
constexpr int GROUP_M = 8;

// ------------------------------------------------------------------------------------------ tile order

// Linear tile index t in [0, tilesM * tilesN) to (tm, tn), walking groups of GROUP_M tile rows column by column.
__device__ __forceinline__ void tile_of(int t, int tilesM, int tilesN, int& tm, int& tn) {
    const int width = GROUP_M * tilesN;
    const int group = t / width;
    const int first = group * GROUP_M;
    const int rows = min(tilesM - first, GROUP_M);
    const int r = t - group * width;
    tm = first + r % rows;
    tn = r / rows;
}

// ------------------------------------------------------------------------------------------ loads / stores

// Four consecutive floats of one stored row: p points at column col of a row with cols columns; rowOk says
// whether the row exists. Elements outside read as 0. VEC: one float4 load when all four are inside (p is
// 16-byte aligned then: the host checked lds, offsets and strides).
template <bool VEC>
__device__ __forceinline__ float4 load4(const float* __restrict__ p, bool rowOk, int col, int cols) {
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (rowOk) {
        if (VEC && col < cols - 3) {
            v = __ldg(reinterpret_cast<const float4*>(p));
        } else {
            if (col < cols) v.x = __ldg(p);
            if (col < cols - 1) v.y = __ldg(p + 1);
            if (col < cols - 2) v.z = __ldg(p + 2);
            if (col < cols - 3) v.w = __ldg(p + 3);
        }
    }
    return v;
}

// C[col .. col+3] of one row (cp points at column col) = alpha * v + beta * C, for the columns < n.
template <bool VEC>
__device__ __forceinline__ void store4(float* __restrict__ cp, int col, int n, float v0, float v1, float v2, float v3,
                                       float alpha, float beta) {
    if (VEC && col < n - 3) {
        float4 r = make_float4(alpha * v0, alpha * v1, alpha * v2, alpha * v3);
        if (beta != 0.f) {
            const float4 o = *reinterpret_cast<const float4*>(cp);
            r.x = fmaf(beta, o.x, r.x);
            r.y = fmaf(beta, o.y, r.y);
            r.z = fmaf(beta, o.z, r.z);
            r.w = fmaf(beta, o.w, r.w);
        }
        *reinterpret_cast<float4*>(cp) = r;
    } else {
        const float v[4] = {v0, v1, v2, v3};
#pragma unroll
        for (int q = 0; q < 4; ++q) {
            if (col < n - q) {
                float r = alpha * v[q];
                if (beta != 0.f) r = fmaf(beta, cp[q], r);
                cp[q] = r;
            }
        }
    }
}

// C[col], C[col+1] of one row = alpha * v + beta * C, for the columns < n (VEC: cp is 8-byte aligned).
template <bool VEC>
__device__ __forceinline__ void store2(float* __restrict__ cp, int col, int n, float v0, float v1, float alpha,
                                       float beta) {
    if (VEC && col < n - 1) {
        float2 r = make_float2(alpha * v0, alpha * v1);
        if (beta != 0.f) {
            const float2 o = *reinterpret_cast<const float2*>(cp);
            r.x = fmaf(beta, o.x, r.x);
            r.y = fmaf(beta, o.y, r.y);
        }
        *reinterpret_cast<float2*>(cp) = r;
    } else {
        if (col < n) {
            float r = alpha * v0;
            if (beta != 0.f) r = fmaf(beta, cp[0], r);
            cp[0] = r;
        }
        if (col < n - 1) {
            float r = alpha * v1;
            if (beta != 0.f) r = fmaf(beta, cp[1], r);
            cp[1] = r;
        }
    }
}

// ------------------------------------------------------------------------------------------ SIMT 128x128x8

constexpr int S_BM = 128, S_BN = 128, S_BK = 8;
constexpr int S_LD = 132;             // k-major row of a shared tile: 128 + 4 pad
constexpr int S_TILE = S_BK * S_LD;   // floats per operand per buffer

// Loads one operand's 128 (m or n) x 8 (k) tile per call, one float4 per thread, and stores it k-major
// ([k][mn], row stride S_LD) to shared memory.
// KC (k-contiguous, A as N / B as T): thread t reads stored row base + t/2, columns k0 + (t%2)*4 .. +3.
// !KC (mn-contiguous, A as T / B as N): thread t reads stored row k0 + t/32, columns base + (t%32)*4 .. +3.
template <bool KC, bool VEC>
struct Loader128 {
    const float* p;   // this thread's next element
    long long step;   // advance per k tile
    int kIdx;         // KC: column within the k tile (0 or 4); !KC: row within the k tile (0..7)
    int mnCol;        // !KC: absolute column (m or n)
    int mnLimit;      // m or n
    int K;
    bool rowOk;       // KC: the stored row exists
    int sidx;         // shared index of the first element this thread stores

    __device__ __forceinline__ void init(const float* X, int ld, int base, int limit, int k, int tid) {
        K = k;
        mnLimit = limit;
        if (KC) {
            const int r = tid >> 1;
            kIdx = (tid & 1) << 2;
            rowOk = base + r < limit;
            mnCol = 0;
            p = X + (long long)(base + r) * ld + kIdx;
            step = S_BK;
            sidx = kIdx * S_LD + r;
        } else {
            const int c = (tid & 31) << 2;
            kIdx = tid >> 5;
            rowOk = true;
            mnCol = base + c;
            p = X + (long long)kIdx * ld + mnCol;
            step = (long long)S_BK * ld;
            sidx = kIdx * S_LD + c;
        }
    }

    // The tile starting at k0 (tiles are loaded in order: the pointer advances by one tile).
    __device__ __forceinline__ float4 next(int k0) {
        const float4 v = KC ? load4<VEC>(p, rowOk, k0 + kIdx, K) : load4<VEC>(p, k0 + kIdx < K, mnCol, mnLimit);
        p += step;
        return v;
    }

    __device__ __forceinline__ void store(float* s, float4 v) const {
        if (KC) {  // transposed: banks (4 (kIdx + q) + r) mod 32 are distinct across a warp
            s[sidx] = v.x;
            s[sidx + S_LD] = v.y;
            s[sidx + 2 * S_LD] = v.z;
            s[sidx + 3 * S_LD] = v.w;
        } else {
            *reinterpret_cast<float4*>(s + sidx) = v;
        }
    }
};

template <bool TA, bool TB, bool VEC>
__device__ __forceinline__ void sgemm128(int m, int n, int k, float alpha, const float* __restrict__ A, int lda,
                                         long long strideA, const float* __restrict__ B, int ldb, long long strideB,
                                         float beta, float* __restrict__ C, int ldc, long long strideC, int batch) {
    __shared__ __align__(16) float As[2][S_TILE];
    __shared__ __align__(16) float Bs[2][S_TILE];

    const int tid = threadIdx.x;
    const int lane = tid & 31, warp = tid >> 5;
    const int tx = ((warp & 1) << 3) | (lane & 7);   // 0..15: columns tx*4 and 64 + tx*4
    const int ty = ((warp >> 1) << 2) | (lane >> 3);  // 0..15: rows ty*4 and 64 + ty*4
    const int tilesM = (m + S_BM - 1) / S_BM;
    const int tilesN = (n + S_BN - 1) / S_BN;
    const int t = blockIdx.x;  // the host launches exactly tilesM * tilesN (< 2^31) blocks in x
    const int ktiles = (k + S_BK - 1) / S_BK;
    if (t >= tilesM * tilesN) return;

    {
        const int z = blockIdx.z;  // the host launches batches of at most 65535 with offset pointers
        const float* Az = A + (long long)z * strideA;
        const float* Bz = B + (long long)z * strideB;
        float* Cz = C + (long long)z * strideC;
        {
            int tm, tn;
            tile_of(t, tilesM, tilesN, tm, tn);
            const int bm = tm * S_BM, bn = tn * S_BN;

            Loader128<!TA, VEC> la;
            Loader128<TB, VEC> lb;
            la.init(Az, lda, bm, m, k, tid);
            lb.init(Bz, ldb, bn, n, k, tid);

            float acc[8][8];
#pragma unroll
            for (int i = 0; i < 8; ++i)
#pragma unroll
                for (int j = 0; j < 8; ++j) acc[i][j] = 0.f;

            float4 ra = la.next(0), rb = lb.next(0);
            la.store(As[0], ra);
            lb.store(Bs[0], rb);
            __syncthreads();

            for (int kt = 0; kt < ktiles; ++kt) {
                const int cur = kt & 1;
                const bool more = kt + 1 < ktiles;
                if (more) {
                    ra = la.next((kt + 1) * S_BK);
                    rb = lb.next((kt + 1) * S_BK);
                }
                const float* as = As[cur];
                const float* bs = Bs[cur];
#pragma unroll
                for (int kk = 0; kk < S_BK; ++kk) {
                    const float4 a0 = *reinterpret_cast<const float4*>(as + kk * S_LD + ty * 4);
                    const float4 a1 = *reinterpret_cast<const float4*>(as + kk * S_LD + 64 + ty * 4);
                    const float4 b0 = *reinterpret_cast<const float4*>(bs + kk * S_LD + tx * 4);
                    const float4 b1 = *reinterpret_cast<const float4*>(bs + kk * S_LD + 64 + tx * 4);
                    const float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
                    const float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
                    for (int i = 0; i < 8; ++i)
#pragma unroll
                        for (int j = 0; j < 8; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
                }
                if (more) {
                    la.store(As[cur ^ 1], ra);
                    lb.store(Bs[cur ^ 1], rb);
                }
                __syncthreads();  // also orders this tile's last reads before the next tile's first stores
            }

#pragma unroll
            for (int i = 0; i < 8; ++i) {
                const int row = bm + (i < 4 ? ty * 4 + i : 64 + ty * 4 + (i - 4));
                if (row < m) {
                    float* crow = Cz + (long long)row * ldc;
                    const int c0 = bn + tx * 4, c1 = bn + 64 + tx * 4;
                    store4<VEC>(crow + c0, c0, n, acc[i][0], acc[i][1], acc[i][2], acc[i][3], alpha, beta);
                    store4<VEC>(crow + c1, c1, n, acc[i][4], acc[i][5], acc[i][6], acc[i][7], alpha, beta);
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------ TF32 mma.sync

constexpr int T_BM = 128, T_BN = 128, T_BK = 16;
constexpr int T_LDK = 20;    // k-contiguous operand: [128][20] (mn-major, 16 + 4 pad)
constexpr int T_LDM = 136;   // mn-contiguous operand: [16][136] (k-major, 128 + 8 pad)
constexpr int T_TILE = 2560; // max(128 * 20, 16 * 136) words per operand per buffer

__device__ __forceinline__ uint32_t to_tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}

__device__ __forceinline__ uint4 to_tf32(float4 v) {
    return make_uint4(to_tf32(v.x), to_tf32(v.y), to_tf32(v.z), to_tf32(v.w));
}

// d += a * b on one m16n8k8 tile (row-major A fragment, column-major B fragment, fp32 accumulators).
__device__ __forceinline__ void mma_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// One operand's 128 (mn) x 16 (k) tile, two float4 per thread, rounded to TF32 on the way to shared memory.
// KC: thread t reads stored rows base + t/4 and base + t/4 + 64, columns k0 + (t%4)*4 .. +3; shared [mn][T_LDK].
// !KC: thread t reads stored rows k0 + t/32 and k0 + t/32 + 8, columns base + (t%32)*4 .. +3; shared [k][T_LDM].
template <bool KC, bool VEC>
struct LoaderTc {
    const float* p;
    long long step;  // per k tile
    long long off1;  // from the first float4 to the second
    int kIdx;        // KC: column within the k tile (0, 4, 8, 12); !KC: row within the k tile (0..7)
    int mnCol;       // !KC: absolute column
    int mnLimit;
    int K;
    bool ok0, ok1;   // KC: the two stored rows exist
    int sidx;        // shared index of the first float4

    static __device__ __forceinline__ int at(int mn, int kk) { return KC ? mn * T_LDK + kk : kk * T_LDM + mn; }

    __device__ __forceinline__ void init(const float* X, int ld, int base, int limit, int k, int tid) {
        K = k;
        mnLimit = limit;
        if (KC) {
            const int r = tid >> 2;
            kIdx = (tid & 3) << 2;
            ok0 = base + r < limit;
            ok1 = base + r + 64 < limit;
            mnCol = 0;
            p = X + (long long)(base + r) * ld + kIdx;
            off1 = 64LL * ld;
            step = T_BK;
            sidx = r * T_LDK + kIdx;
        } else {
            const int c = (tid & 31) << 2;
            kIdx = tid >> 5;
            ok0 = ok1 = true;
            mnCol = base + c;
            p = X + (long long)kIdx * ld + mnCol;
            off1 = 8LL * ld;
            step = (long long)T_BK * ld;
            sidx = kIdx * T_LDM + c;
        }
    }

    __device__ __forceinline__ void next(int k0, float4& v0, float4& v1) {
        if (KC) {
            v0 = load4<VEC>(p, ok0, k0 + kIdx, K);
            v1 = load4<VEC>(p + off1, ok1, k0 + kIdx, K);
        } else {
            v0 = load4<VEC>(p, k0 + kIdx < K, mnCol, mnLimit);
            v1 = load4<VEC>(p + off1, k0 + kIdx + 8 < K, mnCol, mnLimit);
        }
        p += step;
    }

    __device__ __forceinline__ void store(uint32_t* s, float4 v0, float4 v1) const {
        *reinterpret_cast<uint4*>(s + sidx) = to_tf32(v0);
        *reinterpret_cast<uint4*>(s + sidx + (KC ? 64 * T_LDK : 8 * T_LDM)) = to_tf32(v1);
    }
};

template <bool TA, bool TB, bool VEC>
__device__ __forceinline__ void sgemm_tf32(int m, int n, int k, float alpha, const float* __restrict__ A, int lda,
                                           long long strideA, const float* __restrict__ B, int ldb, long long strideB,
                                           float beta, float* __restrict__ C, int ldc, long long strideC, int batch) {
    typedef LoaderTc<!TA, VEC> LA;
    typedef LoaderTc<TB, VEC> LB;
    __shared__ __align__(16) uint32_t As[2][T_TILE];
    __shared__ __align__(16) uint32_t Bs[2][T_TILE];

    const int tid = threadIdx.x;
    const int lane = tid & 31, warp = tid >> 5;
    const int g = lane >> 2, q = lane & 3;            // mma groupID, threadID_in_group
    const int wm = (warp >> 2) * 64, wn = (warp & 3) * 32;  // warp tile origin in the block tile
    const int tilesM = (m + T_BM - 1) / T_BM;
    const int tilesN = (n + T_BN - 1) / T_BN;
    const int t = blockIdx.x;  // the host launches exactly tilesM * tilesN (< 2^31) blocks in x
    const int ktiles = (k + T_BK - 1) / T_BK;
    if (t >= tilesM * tilesN) return;

    {
        const int z = blockIdx.z;  // the host launches batches of at most 65535 with offset pointers
        const float* Az = A + (long long)z * strideA;
        const float* Bz = B + (long long)z * strideB;
        float* Cz = C + (long long)z * strideC;
        {
            int tm, tn;
            tile_of(t, tilesM, tilesN, tm, tn);
            const int bm = tm * T_BM, bn = tn * T_BN;

            LA la;
            LB lb;
            la.init(Az, lda, bm, m, k, tid);
            lb.init(Bz, ldb, bn, n, k, tid);

            float acc[4][4][4];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j)
#pragma unroll
                    for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

            float4 ra0, ra1, rb0, rb1;
            la.next(0, ra0, ra1);
            lb.next(0, rb0, rb1);
            la.store(As[0], ra0, ra1);
            lb.store(Bs[0], rb0, rb1);
            __syncthreads();

            for (int kt = 0; kt < ktiles; ++kt) {
                const int cur = kt & 1;
                const bool more = kt + 1 < ktiles;
                if (more) {
                    la.next((kt + 1) * T_BK, ra0, ra1);
                    lb.next((kt + 1) * T_BK, rb0, rb1);
                }
                const uint32_t* as = As[cur];
                const uint32_t* bs = Bs[cur];
#pragma unroll
                for (int kk = 0; kk < T_BK; kk += 8) {
                    uint32_t bf[4][2];
#pragma unroll
                    for (int j = 0; j < 4; ++j) {
                        const int nn = wn + j * 8 + g;
                        bf[j][0] = bs[LB::at(nn, kk + q)];
                        bf[j][1] = bs[LB::at(nn, kk + q + 4)];
                    }
#pragma unroll
                    for (int i = 0; i < 4; ++i) {
                        const int mm = wm + i * 16 + g;
                        uint32_t af[4];
                        af[0] = as[LA::at(mm, kk + q)];
                        af[1] = as[LA::at(mm + 8, kk + q)];
                        af[2] = as[LA::at(mm, kk + q + 4)];
                        af[3] = as[LA::at(mm + 8, kk + q + 4)];
#pragma unroll
                        for (int j = 0; j < 4; ++j) mma_tf32(acc[i][j], af, bf[j]);
                    }
                }
                if (more) {
                    la.store(As[cur ^ 1], ra0, ra1);
                    lb.store(Bs[cur ^ 1], rb0, rb1);
                }
                __syncthreads();
            }

            // accumulator r of tile (i, j): row g + 8 (r / 2), column 2 q + (r % 2)
#pragma unroll
            for (int i = 0; i < 4; ++i) {
#pragma unroll
                for (int h = 0; h < 2; ++h) {
                    const int row = bm + wm + i * 16 + g + 8 * h;
                    if (row < m) {
                        float* crow = Cz + (long long)row * ldc;
#pragma unroll
                        for (int j = 0; j < 4; ++j) {
                            const int col = bn + wn + j * 8 + 2 * q;
                            store2<VEC>(crow + col, col, n, acc[i][j][2 * h], acc[i][j][2 * h + 1], alpha, beta);
                        }
                    }
                }
            }
        }
    }
}

// ------------------------------------------------------------------------------------------ general 64x64x16

constexpr int G_BM = 64, G_BN = 64, G_BK = 16, G_LD = 65;

template <typename E>
struct Ops;

template <>
struct Ops<float> {
    static __device__ __forceinline__ float zero() { return 0.f; }
    static __device__ __forceinline__ float conj(float x) { return x; }
    static __device__ __forceinline__ float mac(float acc, float a, float b) { return fmaf(a, b, acc); }
    static __device__ __forceinline__ bool isZero(float x) { return x == 0.f; }
    // alpha * acc (+ beta * c unless beta == 0, when c is not read)
    static __device__ __forceinline__ float out(float acc, float alpha, float beta, const float* c) {
        const float r = alpha * acc;
        return beta == 0.f ? r : fmaf(beta, *c, r);
    }
};

template <>
struct Ops<double> {
    static __device__ __forceinline__ double zero() { return 0.0; }
    static __device__ __forceinline__ double conj(double x) { return x; }
    static __device__ __forceinline__ double mac(double acc, double a, double b) { return fma(a, b, acc); }
    static __device__ __forceinline__ bool isZero(double x) { return x == 0.0; }
    static __device__ __forceinline__ double out(double acc, double alpha, double beta, const double* c) {
        const double r = alpha * acc;
        return beta == 0.0 ? r : fma(beta, *c, r);
    }
};

template <>
struct Ops<float2> {
    static __device__ __forceinline__ float2 zero() { return make_float2(0.f, 0.f); }
    static __device__ __forceinline__ float2 conj(float2 x) { return make_float2(x.x, -x.y); }
    static __device__ __forceinline__ float2 mac(float2 acc, float2 a, float2 b) {
        acc.x = fmaf(a.x, b.x, acc.x);
        acc.x = fmaf(-a.y, b.y, acc.x);
        acc.y = fmaf(a.x, b.y, acc.y);
        acc.y = fmaf(a.y, b.x, acc.y);
        return acc;
    }
    static __device__ __forceinline__ bool isZero(float2 x) { return x.x == 0.f && x.y == 0.f; }
    static __device__ __forceinline__ float2 out(float2 acc, float2 alpha, float2 beta, const float2* c) {
        float2 r = make_float2(alpha.x * acc.x - alpha.y * acc.y, alpha.x * acc.y + alpha.y * acc.x);
        if (beta.x != 0.f || beta.y != 0.f) {
            const float2 o = *c;
            r.x += beta.x * o.x - beta.y * o.y;
            r.y += beta.x * o.y + beta.y * o.x;
        }
        return r;
    }
};

// One operand's 64 (mn) x 16 (k) tile into shared [k][G_LD], 4 elements per thread, each predicated.
// kc: stored k-contiguous (X[mn * ld + k]), read 16 k per row; else X[k * ld + mn], read 64 mn per row.
template <typename E>
__device__ __forceinline__ void load_tile64(E* s, const E* __restrict__ X, int ld, bool kc, bool cj, int base,
                                            int limit, int k0, int K, int tid) {
#pragma unroll
    for (int r = 0; r < 4; ++r) {
        const int e = tid + THREADS * r;
        const int mn = kc ? e >> 4 : e & 63;
        const int kk = kc ? e & 15 : e >> 6;
        const int gm = base + mn, gk = k0 + kk;
        E v = Ops<E>::zero();
        if (gm < limit && gk < K) {
            v = kc ? X[(long long)gm * ld + gk] : X[(long long)gk * ld + gm];
            if (cj) v = Ops<E>::conj(v);
        }
        s[kk * G_LD + mn] = v;
    }
}

// ta, tb: 0 = N, 1 = T, 2 = H (conjugate; complex only, real types treat it as T).
template <typename E>
__device__ __forceinline__ void gemm64(int ta, int tb, int m, int n, int k, E alpha, const E* __restrict__ A, int lda,
                                       long long strideA, const E* __restrict__ B, int ldb, long long strideB, E beta,
                                       E* __restrict__ C, int ldc, long long strideC, int batch) {
    __shared__ E As[G_BK * G_LD];
    __shared__ E Bs[G_BK * G_LD];
    const int tid = threadIdx.x;
    const int tx = tid & 15, ty = tid >> 4;
    const bool kcA = ta == 0, kcB = tb != 0;
    const bool cjA = ta == 2, cjB = tb == 2;
    const int tilesM = (m + G_BM - 1) / G_BM;
    const int bn = blockIdx.x * G_BN;

    for (int z = blockIdx.z; z < batch; z += gridDim.z) {
        const E* Az = A + (long long)z * strideA;
        const E* Bz = B + (long long)z * strideB;
        E* Cz = C + (long long)z * strideC;
        for (int tm = blockIdx.y; tm < tilesM; tm += gridDim.y) {
            const int bm = tm * G_BM;
            E acc[4][4];
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] = Ops<E>::zero();

            for (int k0 = 0; k0 < k; k0 += G_BK) {
                load_tile64(As, Az, lda, kcA, cjA, bm, m, k0, k, tid);
                load_tile64(Bs, Bz, ldb, kcB, cjB, bn, n, k0, k, tid);
                __syncthreads();
#pragma unroll
                for (int kk = 0; kk < G_BK; ++kk) {
                    E a[4], b[4];
#pragma unroll
                    for (int i = 0; i < 4; ++i) a[i] = As[kk * G_LD + ty + 16 * i];
#pragma unroll
                    for (int j = 0; j < 4; ++j) b[j] = Bs[kk * G_LD + tx + 16 * j];
#pragma unroll
                    for (int i = 0; i < 4; ++i)
#pragma unroll
                        for (int j = 0; j < 4; ++j) acc[i][j] = Ops<E>::mac(acc[i][j], a[i], b[j]);
                }
                __syncthreads();
            }

#pragma unroll
            for (int i = 0; i < 4; ++i) {
                const int row = bm + ty + 16 * i;
                if (row < m) {
#pragma unroll
                    for (int j = 0; j < 4; ++j) {
                        const int col = bn + tx + 16 * j;
                        if (col < n) {
                            E* cp = Cz + (long long)row * ldc + col;
                            *cp = Ops<E>::out(acc[i][j], alpha, beta, cp);
                        }
                    }
                }
            }
        }
    }
}

}  // namespace gemm_detail

// ------------------------------------------------------------------------------------------ entry points

#define SPROUT_SGEMM_PARAMS                                                                                    \
    int m, int n, int k, float alpha, const float* __restrict__ A, int lda, long long strideA,                 \
        const float* __restrict__ B, int ldb, long long strideB, float beta, float* __restrict__ C, int ldc,   \
        long long strideC, int batch
#define SPROUT_SGEMM_ARGS m, n, k, alpha, A, lda, strideA, B, ldb, strideB, beta, C, ldc, strideC, batch

#define SPROUT_SGEMM_128(name, TA, TB, VEC)                                                        \
    extern "C" __global__ void __launch_bounds__(256, 2) name(SPROUT_SGEMM_PARAMS) {               \
        gemm_detail::sgemm128<TA, TB, VEC>(SPROUT_SGEMM_ARGS);                                     \
    }
SPROUT_SGEMM_128(sprout_sgemm_128x128_nn, false, false, false)
SPROUT_SGEMM_128(sprout_sgemm_128x128_nt, false, true, false)
SPROUT_SGEMM_128(sprout_sgemm_128x128_tn, true, false, false)
SPROUT_SGEMM_128(sprout_sgemm_128x128_tt, true, true, false)
SPROUT_SGEMM_128(sprout_sgemm_128x128_nn_v4, false, false, true)
SPROUT_SGEMM_128(sprout_sgemm_128x128_nt_v4, false, true, true)
SPROUT_SGEMM_128(sprout_sgemm_128x128_tn_v4, true, false, true)
SPROUT_SGEMM_128(sprout_sgemm_128x128_tt_v4, true, true, true)

#define SPROUT_SGEMM_TF32(name, TA, TB, VEC)                                                       \
    extern "C" __global__ void __launch_bounds__(256, 2) name(SPROUT_SGEMM_PARAMS) {               \
        gemm_detail::sgemm_tf32<TA, TB, VEC>(SPROUT_SGEMM_ARGS);                                   \
    }
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_nn, false, false, false)
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_nt, false, true, false)
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_tn, true, false, false)
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_tt, true, true, false)
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_nn_v4, false, false, true)
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_nt_v4, false, true, true)
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_tn_v4, true, false, true)
SPROUT_SGEMM_TF32(sprout_sgemm_tf32_tt_v4, true, true, true)

// ta, tb: 0 = N, 1 = T (2 = H is taken as T for real data).
extern "C" __global__ void __launch_bounds__(256) sprout_sgemm_general(int ta, int tb, SPROUT_SGEMM_PARAMS) {
    gemm_detail::gemm64<float>(ta, tb, SPROUT_SGEMM_ARGS);
}

extern "C" __global__ void __launch_bounds__(256) sprout_dgemm(int ta, int tb, int m, int n, int k, double alpha,
                                                              const double* __restrict__ A, int lda, long long strideA,
                                                              const double* __restrict__ B, int ldb, long long strideB,
                                                              double beta, double* __restrict__ C, int ldc,
                                                              long long strideC, int batch) {
    gemm_detail::gemm64<double>(ta, tb, SPROUT_SGEMM_ARGS);
}

// Complex: A, B, C are interleaved (re, im) float pairs; lds, strides count complex elements; ta/tb 2 = H.
extern "C" __global__ void __launch_bounds__(256) sprout_cgemm(int ta, int tb, int m, int n, int k, float alphaRe,
                                                              float alphaIm, const float2* __restrict__ A, int lda,
                                                              long long strideA, const float2* __restrict__ B, int ldb,
                                                              long long strideB, float betaRe, float betaIm,
                                                              float2* __restrict__ C, int ldc, long long strideC,
                                                              int batch) {
    gemm_detail::gemm64<float2>(ta, tb, m, n, k, make_float2(alphaRe, alphaIm), A, lda, strideA, B, ldb, strideB,
                                make_float2(betaRe, betaIm), C, ldc, strideC, batch);
}

#undef SPROUT_SGEMM_PARAMS
#undef SPROUT_SGEMM_ARGS
#undef SPROUT_SGEMM_128
#undef SPROUT_SGEMM_TF32
