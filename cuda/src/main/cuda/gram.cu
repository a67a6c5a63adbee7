// gram.cu: weighted Gram matrices of splitting, S[i] += sum_n w[n, i] x[n] x[n]^T for every neuron i at once
// (x [samples, d], w [samples, neurons], S [neurons, d, d], all row-major; S symmetric, both triangles written).
//
// Performance model. Per neuron this is a d x d x samples product A^T B with A = diag(w_i) X and B = X, so
// the work is neurons * samples * d^2 multiply-adds, and symmetry halves it: a block computes one 64 x 64
// tile of S on or below the diagonal (tile pair (ti, tj), ti >= tj) and writes it to both triangles. Tiles
// are 64 wide because d = 576 = 9 * 64 (45 of 81 tiles computed, 11% above the exact triangle; 128-wide tiles
// would compute 15 of 25 tiles of a 640-padded matrix, 48% above) and d = 64 is one tile.
//  - Block: f32 64 threads (8 x 8), each an 8 x 8 register tile of S; f64 256 threads (16 x 16), each 4 x 4.
//    A thread's rows are {ty*V .. ty*V+V-1} and {32+ty*V .. 32+ty*V+V-1} (V = 16 bytes / sizeof(T)), its
//    columns likewise with tx, so each k step reads its fragments as two 16-byte shared loads for rows and
//    two for columns, which a warp serves by broadcast (4 distinct ty and 8 tx per warp for f32).
//  - Staging: chunks of BK samples (f32 8, f64 16). A chunk's rows of x (the 64 columns of tile ti,
//    pre-multiplied by w[n, i], and the 64 columns of tile tj) go global -> registers -> shared memory
//    As[BK][64], Bs[BK][64] (k-major, exactly x's layout, so the global loads are 64 consecutive values of one
//    row: coalesced, no transpose). The next chunk is loaded into registers while the current one is
//    multiplied (prefetch), two __syncthreads per chunk. f32: 8 x 64 = 512 FMAs per thread per chunk against
//    24 global loads, 16 shared stores and 32 16-byte shared loads (about 82% of issued instructions are FMAs).
//  - Per k step a thread does 64 FMAs (f32) from 4 vector shared loads: FMA-bound, not shared-memory-bound.
//    x and w (13.8 MB + 1.5 MB for d = 576, samples = 6000) stay in the 50 MB L2 across blocks. Each block
//    streams 128 values per sample for 4096 FMAs: at 40 TFLOP/s that is about 2.5 TB/s from L2 (L1 catches the
//    diagonal tiles' second read). If a profile shows L2-bound, the next step is a block per (tile pair, two
//    neurons): x tiles loaded once, scaled into two A tiles in shared memory, half the L2 traffic.
//  - Grid: (tile pairs, neurons), neurons strided over gridDim.y <= 65535. d = 576, neurons = 64: 2880 blocks.
//    f32: 128 registers on sm_90 (no spills), so 8 blocks (16 warps) per SM, 1056 blocks at once on 132 SMs,
//    2.7 waves (sm_80: 160 registers, 6 blocks per SM).
//    f64: 256 threads at <= 128 registers, 2 blocks per SM. Expected on an H100 SXM, d = 576 / neurons = 64 /
//    samples = 6000: f32 70.8 G FMA (141.6 GFLOP executed, 127.6 useful) at 50-65% of the 67 TFLOP/s FP32
//    peak, about 3.5-4.5 ms; f64 at 65-80% of the 34 TFLOP/s FP64 peak, about 5.5-7 ms. d = 64,
//    neurons = 1000: one tile per neuron, 1000 blocks, about 1.3 ms (f32) at samples = 6000.
//  - Accuracy: each S entry is one sequential FMA chain over the samples in T (f32 accumulates in f32):
//    error <= about samples * u * sum_n |w x_a x_b|, inside the conformance bound 8 eps samples sum|...|.
//  - Epilogue: S_in may be any matrix; like the Java reference (S += G, then average the two triangles) the
//    result is 0.5 (S_in[r][c] + S_in[c][r]) + G[r][c] in both triangles, so S comes out exactly symmetric.
//    The thread that owns (r, c), r > c, reads and writes both (r, c) and (c, r); on a diagonal tile the
//    owner of (c, r) skips it, so no two threads touch the same element.

namespace gram_detail {

constexpr int TILE = 64;  // rows and columns of S per block
constexpr int HALF = 32;  // a thread's rows (and columns) are in two groups, at +0 and at +HALF

// V: values per 16-byte vector. BK: samples per staged chunk (f32: 8 keeps the kernel at 128 registers with
// 8 blocks per SM and no spills, 16 would need 167; f64: 16, at most 128 registers at 256 threads, 2 blocks
// per SM). MIN_BLOCKS: the launch-bounds occupancy hint.
template <typename T>
struct Cfg;

template <>
struct Cfg<float> {
    static constexpr int V = 4;
    static constexpr int BK = 8;
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 900
    static constexpr int MIN_BLOCKS = 6;  // sm_80's ptxas spills at 128 registers; 6 blocks allow up to 168
#else
    static constexpr int MIN_BLOCKS = 8;
#endif
};

template <>
struct Cfg<double> {
    static constexpr int V = 2;
    static constexpr int BK = 16;
    static constexpr int MIN_BLOCKS = 2;
};

template <typename T>
struct Shape {
    static constexpr int V = Cfg<T>::V;
    static constexpr int BK = Cfg<T>::BK;
    static constexpr int TM = 2 * V;              // rows (and columns) of S per thread
    static constexpr int TH = HALF / V;           // threads along a tile edge: 8 (f32) or 16 (f64)
    static constexpr int THREADS = TH * TH;       // 64 or 256
    static constexpr int KSTEP = THREADS / TILE;  // staged sample rows one pass of the block covers: 1 or 4
    static constexpr int LOADS = BK / KSTEP;      // values per thread per operand per chunk: 8 or 4
    static_assert(THREADS % TILE == 0, "a block stages whole rows of a tile");
    static_assert(BK % KSTEP == 0, "a chunk is a whole number of block passes");
};

__device__ __forceinline__ void frag(const float* p, float* r) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    r[0] = v.x;
    r[1] = v.y;
    r[2] = v.z;
    r[3] = v.w;
}

__device__ __forceinline__ void frag(const double* p, double* r) {
    const double2 v = *reinterpret_cast<const double2*>(p);
    r[0] = v.x;
    r[1] = v.y;
}

// Row (or column) of the tile held in a thread's i-th register slot, 0 <= i < TM.
template <typename T>
__device__ __forceinline__ int slot(int t, int i) {
    constexpr int V = Shape<T>::V;
    return i < V ? t * V + i : HALF + t * V + (i - V);
}

template <typename T>
__device__ __forceinline__ void weighted_gram(int samples, int d, int neurons, const T* __restrict__ x,
                                              const T* __restrict__ w, T* __restrict__ s) {
    using S = Shape<T>;
    constexpr int TM = S::TM, TH = S::TH, KSTEP = S::KSTEP, LOADS = S::LOADS, BK = S::BK;
    __shared__ __align__(16) T As[BK][TILE];  // As[k][m] = w[n0 + k, i] * x[n0 + k, r0 + m]
    __shared__ __align__(16) T Bs[BK][TILE];  // Bs[k][m] = x[n0 + k, c0 + m]

    // tile pair p -> (ti, tj), ti >= tj, p = ti (ti + 1) / 2 + tj
    const int p = blockIdx.x;
    int ti = (int) ((sqrtf(8.0f * (float) p + 1.0f) - 1.0f) * 0.5f);
    while (ti > 0 && ti * (ti + 1) / 2 > p) {
        --ti;
    }
    while ((ti + 1) * (ti + 2) / 2 <= p) {
        ++ti;
    }
    const int tj = p - ti * (ti + 1) / 2;
    const int r0 = ti * TILE, c0 = tj * TILE;

    const int tid = threadIdx.x;
    const int tx = tid % TH, ty = tid / TH;  // compute layout
    const int m = tid % TILE, kb = tid / TILE;  // staging layout: column m of sample rows kb + j * KSTEP
    const int colA = r0 + m, colB = c0 + m;
    const bool okA = colA < d, okB = colB < d;
    const int chunks = (samples + BK - 1) / BK;

    for (int neuron = blockIdx.y; neuron < neurons; neuron += gridDim.y) {
        T acc[TM][TM];
#pragma unroll
        for (int i = 0; i < TM; ++i) {
#pragma unroll
            for (int j = 0; j < TM; ++j) {
                acc[i][j] = T(0);
            }
        }
        T ra[LOADS], rb[LOADS], rw[LOADS];
        auto fetch = [&](int chunk) {
#pragma unroll
            for (int j = 0; j < LOADS; ++j) {
                const long long n = (long long) chunk * BK + kb + j * KSTEP;
                if (n < samples) {
                    const T* row = x + n * d;
                    ra[j] = okA ? row[colA] : T(0);
                    rb[j] = okB ? row[colB] : T(0);
                    rw[j] = w[n * neurons + neuron];
                } else {
                    ra[j] = T(0);
                    rb[j] = T(0);
                    rw[j] = T(0);
                }
            }
        };

        fetch(0);
        for (int chunk = 0; chunk < chunks; ++chunk) {
#pragma unroll
            for (int j = 0; j < LOADS; ++j) {
                As[kb + j * KSTEP][m] = ra[j] * rw[j];
                Bs[kb + j * KSTEP][m] = rb[j];
            }
            __syncthreads();
            if (chunk + 1 < chunks) {
                fetch(chunk + 1);  // in flight while this chunk is multiplied
            }
#pragma unroll
            for (int k = 0; k < BK; ++k) {
                T a[TM], b[TM];
                frag(&As[k][ty * S::V], a);
                frag(&As[k][HALF + ty * S::V], a + S::V);
                frag(&Bs[k][tx * S::V], b);
                frag(&Bs[k][HALF + tx * S::V], b + S::V);
#pragma unroll
                for (int i = 0; i < TM; ++i) {
#pragma unroll
                    for (int j = 0; j < TM; ++j) {
                        acc[i][j] = fma(a[i], b[j], acc[i][j]);
                    }
                }
            }
            __syncthreads();  // As/Bs are rewritten by the next chunk (or the next neuron)
        }

        T* sm = s + (long long) neuron * d * d;
#pragma unroll
        for (int i = 0; i < TM; ++i) {
            const int r = r0 + slot<T>(ty, i);
            if (r < d) {
#pragma unroll
                for (int j = 0; j < TM; ++j) {
                    const int c = c0 + slot<T>(tx, j);
                    if (c < r) {
                        T* rc = sm + (long long) r * d + c;
                        T* cr = sm + (long long) c * d + r;
                        const T v = T(0.5) * (*rc + *cr) + acc[i][j];
                        *rc = v;
                        *cr = v;
                    } else if (c == r) {
                        T* rr = sm + (long long) r * d + r;
                        *rr = *rr + acc[i][j];
                    }
                }
            }
        }
    }
}

}  // namespace gram_detail

// ---------------------------------------------------------------------------------------------- entry points
// Grid (tiles (tiles + 1) / 2 with tiles = ceil(d / 64), min(neurons, 65535)), no dynamic shared memory;
// block 64 threads (f32) or 256 (f64): the launch bounds, which CudaGram.THREADS_F32 / THREADS_F64 mirror.
// Requires samples, d, neurons >= 1 (the launcher returns early otherwise).

extern "C" __global__ void __launch_bounds__(gram_detail::Shape<float>::THREADS, gram_detail::Cfg<float>::MIN_BLOCKS) sprout_weighted_gram_f32(
        int samples, int d, int neurons, const float* __restrict__ x, const float* __restrict__ w,
        float* __restrict__ s) {
    gram_detail::weighted_gram<float>(samples, d, neurons, x, w, s);
}

extern "C" __global__ void __launch_bounds__(gram_detail::Shape<double>::THREADS, gram_detail::Cfg<double>::MIN_BLOCKS) sprout_weighted_gram_f64(
        int samples, int d, int neurons, const double* __restrict__ x, const double* __restrict__ w,
        double* __restrict__ s) {
    gram_detail::weighted_gram<double>(samples, d, neurons, x, w, s);
}
