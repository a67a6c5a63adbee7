// pointwise.cu: activation functions with their derivatives of order 0..6, and sums over one axis.
//
// Performance model. Both kernels are bound by memory bandwidth (about 3 TB/s on an H100), not arithmetic.
//  - activation: a grid-stride loop, one element per thread per step (256-thread blocks; coalesced 4- or
//    8-byte loads and stores). f32 and f64 are both evaluated in double precision, exactly like the Java
//    reference (which evaluates Activation.eval in double and rounds once to float): every multiply and add
//    of the closed forms and of the Horner recurrences is written with __dmul_rn/__dadd_rn, so nvcc does not
//    contract them into FMAs and the roundings are the reference's. The only differences left are the 1-2 ulp
//    of the CUDA tanh/exp/log1p/pow against java.lang.Math. The polynomial coefficients come from
//    Activation.polynomial (Java) as kernel parameters (at most 8, constant term first), so no table is
//    copied by hand. A double-precision tanh/exp costs a few dozen FP64 instructions: at H100's 60+ TFLOP/s
//    FP64 that still leaves the kernel near the bandwidth limit.
//  - sum_axis (x as [outer, len, inner], sum over len): one block of 256 threads per (outer row, tile of TX
//    inner columns), threads laid out TX x TY (TX = min(32, next power of two >= inner), TY = 256 / TX). Each
//    thread sums a strided slice of len sequentially (4 loads in flight), then a shared-memory tree over TY.
//    A warp reads 32 / TX rows of TX contiguous values at a time, so loads are coalesced for every inner. f32
//    sums in f32: the error is at most about (len / TY + log2 TY) u sum|x|, well inside 4 eps len sum|x|.
//    sum_axis_per_output: one thread per output, sequential over len; picked by the host when len is short
//    or there are enough outputs to fill the GPU (coalesced along inner).
//  Both sum kernels are deterministic: the summation order depends only on the sizes.

namespace pointwise_detail {

// The codes the Java launcher (CudaPointwise.code) maps dev.sprout.backend.Activation to.
enum Fn : int { RELU = 0, TANH = 1, SIGMOID = 2, SOFTPLUS = 3, RBF = 4, IDENTITY = 5 };

constexpr int MAX_COEF = 8;  // Activation.MAX_ORDER + 2: tanh and sigmoid polynomials of order 6 have degree 7

struct Poly {
    double c[MAX_COEF];
    int n;
};

// Java's horner: r = 0; for i = n-1 .. 0: r = r * t + c[i], every operation rounded on its own.
__device__ __forceinline__ double horner(const Poly& p, double t) {
    double r = 0.0;
#pragma unroll
    for (int i = MAX_COEF - 1; i >= 0; --i) {
        if (i < p.n) {
            r = __dadd_rn(__dmul_rn(r, t), p.c[i]);
        }
    }
    return r;
}

// Activation.sigmoid: stable on both sides.
__device__ __forceinline__ double sigmoid(double x) {
    if (x >= 0.0) {
        return __ddiv_rn(1.0, __dadd_rn(1.0, exp(-x)));
    }
    const double e = exp(x);
    return __ddiv_rn(e, __dadd_rn(1.0, e));
}

// Activation.eval(x, order, beta), case by case.
__device__ __forceinline__ double eval(int f, int order, double x, double beta, const Poly& p) {
    switch (f) {
        case RELU:
            // Math.max(0.0, x): NaN stays NaN, -0.0 becomes 0.0
            return order == 0 ? (x != x ? x : (x > 0.0 ? x : 0.0)) : order == 1 ? (x > 0.0 ? 1.0 : 0.0) : 0.0;
        case TANH: {
            const double t = tanh(x);
            return order == 0 ? t : order == 1 ? __dsub_rn(1.0, __dmul_rn(t, t)) : horner(p, t);
        }
        case SIGMOID: {
            const double s = sigmoid(x);
            return order == 0 ? s : order == 1 ? __dmul_rn(s, __dsub_rn(1.0, s)) : horner(p, s);
        }
        case SOFTPLUS: {
            const double bx = __dmul_rn(beta, x);
            if (order == 0) {
                return __ddiv_rn(bx > 30.0 ? bx : log1p(exp(bx)), beta);
            }
            const double s = sigmoid(bx);
            return order == 1 ? s : __dmul_rn(pow(beta, (double) (order - 1)), horner(p, s));
        }
        case RBF:
            return __dmul_rn(horner(p, x), exp(__dmul_rn(__dmul_rn(-0.5, x), x)));
        case IDENTITY:
            return order == 0 ? x : order == 1 ? 1.0 : 0.0;
        default:
            return __longlong_as_double(0x7ff8000000000000LL);  // unknown code: NaN (the launcher never sends one)
    }
}

__device__ __forceinline__ float apply(int f, int order, float v, double beta, const Poly& p) {
    if (f == RELU && order <= 1) {  // the Java backend's f32 ReLU loop
        return order == 0 ? (!(v <= 0.0f) ? v : 0.0f) : (v > 0.0f ? 1.0f : 0.0f);  // NaN stays NaN
    }
    return __double2float_rn(eval(f, order, (double) v, beta, p));
}

__device__ __forceinline__ double apply(int f, int order, double v, double beta, const Poly& p) {
    return eval(f, order, v, beta, p);
}

// x and y may be the same array (in place): each element is read before it is written, by one thread.
template <typename T>
__device__ __forceinline__ void activation(int f, int order, double beta, const Poly& p, const T* x, T* y,
                                           long long n) {
    const long long stride = (long long) gridDim.x * blockDim.x;
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        y[i] = apply(f, order, x[i], beta, p);
    }
}

constexpr int SUM_THREADS = 256;

// Block = SUM_THREADS threads as TX x TY (tx fastest), TX = 1 << txLog2 <= 32. Grid: x strides over outer
// rows, y over tiles of TX inner columns. The loops' bounds are uniform over a block, so every thread reaches
// every __syncthreads.
template <typename T>
__device__ __forceinline__ void sum_axis(const T* __restrict__ x, T* __restrict__ out, long long outer,
                                         long long len, long long inner, int txLog2) {
    __shared__ T part[SUM_THREADS];
    const int TX = 1 << txLog2;
    const int TY = SUM_THREADS >> txLog2;
    const int tx = threadIdx.x & (TX - 1);
    const int ty = threadIdx.x >> txLog2;  // threadIdx.x == ty * TX + tx
    const long long tiles = (inner + TX - 1) / TX;
    for (long long o = blockIdx.x; o < outer; o += gridDim.x) {
        for (long long tile = blockIdx.y; tile < tiles; tile += gridDim.y) {
            const long long i = tile * TX + tx;
            T acc = T(0);
            if (i < inner) {
                const T* col = x + o * len * inner + i;  // element l of this column: col[l * inner]
                long long l = ty;
                for (; l + 3LL * TY < len; l += 4LL * TY) {
                    const T v0 = col[l * inner];
                    const T v1 = col[(l + TY) * inner];
                    const T v2 = col[(l + 2LL * TY) * inner];
                    const T v3 = col[(l + 3LL * TY) * inner];
                    acc += v0;
                    acc += v1;
                    acc += v2;
                    acc += v3;
                }
                for (; l < len; l += TY) {
                    acc += col[l * inner];
                }
            }
            part[threadIdx.x] = acc;
            __syncthreads();
            for (int half = TY >> 1; half >= 1; half >>= 1) {
                if (ty < half) {
                    part[ty * TX + tx] += part[(ty + half) * TX + tx];
                }
                __syncthreads();
            }
            if (ty == 0 && i < inner) {
                out[o * inner + i] = part[tx];
            }
            __syncthreads();  // part[] is rewritten by the next tile
        }
    }
}

// One thread per output element, sequential over len.
template <typename T>
__device__ __forceinline__ void sum_axis_per_output(const T* __restrict__ x, T* __restrict__ out, long long outer,
                                                    long long len, long long inner) {
    const long long total = outer * inner;
    const long long stride = (long long) gridDim.x * blockDim.x;
    for (long long q = (long long) blockIdx.x * blockDim.x + threadIdx.x; q < total; q += stride) {
        const long long o = q / inner, i = q - o * inner;
        const T* col = x + o * len * inner + i;
        T acc = T(0);
        long long l = 0;
        for (; l + 3 < len; l += 4) {
            const T v0 = col[l * inner];
            const T v1 = col[(l + 1) * inner];
            const T v2 = col[(l + 2) * inner];
            const T v3 = col[(l + 3) * inner];
            acc += v0;
            acc += v1;
            acc += v2;
            acc += v3;
        }
        for (; l < len; ++l) {
            acc += col[l * inner];
        }
        out[q] = acc;
    }
}

}  // namespace pointwise_detail

// ---------------------------------------------------------------------------------------------- entry points
// activation: block 256, grid-stride over n. c0..c7 and ncoef: Activation.polynomial(f, order).

extern "C" __global__ void __launch_bounds__(256) sprout_activation_f32(
        int f, int order, double beta, int ncoef, double c0, double c1, double c2, double c3, double c4, double c5,
        double c6, double c7, const float* x, float* y, long long n) {
    const pointwise_detail::Poly p = {{c0, c1, c2, c3, c4, c5, c6, c7}, ncoef};
    pointwise_detail::activation<float>(f, order, beta, p, x, y, n);
}

extern "C" __global__ void __launch_bounds__(256) sprout_activation_f64(
        int f, int order, double beta, int ncoef, double c0, double c1, double c2, double c3, double c4, double c5,
        double c6, double c7, const double* x, double* y, long long n) {
    const pointwise_detail::Poly p = {{c0, c1, c2, c3, c4, c5, c6, c7}, ncoef};
    pointwise_detail::activation<double>(f, order, beta, p, x, y, n);
}

// sum_axis: block 256 (= TX x TY, TX = 1 << txLog2), grid (outer rows, tiles of TX inner columns), both strided.
extern "C" __global__ void __launch_bounds__(256) sprout_sum_axis_f32(
        const float* x, float* out, long long outer, long long len, long long inner, int txLog2) {
    pointwise_detail::sum_axis<float>(x, out, outer, len, inner, txLog2);
}

extern "C" __global__ void __launch_bounds__(256) sprout_sum_axis_f64(
        const double* x, double* out, long long outer, long long len, long long inner, int txLog2) {
    pointwise_detail::sum_axis<double>(x, out, outer, len, inner, txLog2);
}

// sum_axis_per_output: block 256, grid-stride over outer * inner outputs.
extern "C" __global__ void __launch_bounds__(256) sprout_sum_axis_per_output_f32(
        const float* x, float* out, long long outer, long long len, long long inner) {
    pointwise_detail::sum_axis_per_output<float>(x, out, outer, len, inner);
}

extern "C" __global__ void __launch_bounds__(256) sprout_sum_axis_per_output_f64(
        const double* x, double* out, long long outer, long long len, long long inner) {
    pointwise_detail::sum_axis_per_output<double>(x, out, outer, len, inner);
}
