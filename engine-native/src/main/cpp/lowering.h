// lowering.h - convolution lowering (im2col / col2im) and weighted Gram matrices. Part of isa_body.h.
//
// im2col: one image [C, H, W] -> columns [C*kh*kw, outH*outW], row (c, ki, kj), column (oy, ox), zero padding;
// for stride 1 the valid part of each output row is one contiguous copy. col2im is its adjoint (it zeroes the
// image, then accumulates). Memory-bound copies: no arithmetic to speak of.
// "Same" geometry (stride 1, outW == W, e.g. 3x3 with padding 1): column (oy, ox) of tap (ki, kj) reads the image
// at flat position oy*W + ox + shift, one constant shift per tap, so the valid band of a tap is one long copy
// (im2col; the few wrapped entries at the row ends are zeroed afterwards) or one long masked add (col2im; the
// wrapped entries are masked to +0 bit-wise, exactly). Rows of 28 floats otherwise cost more in loop overhead
// than in data movement.
// weightedGram: S_i += (diag(w_i) X)^T X for neurons [from, to) of the batch: one scaled copy of X (samples x d)
// and one packed gemm (T, N) per neuron, then the two triangles averaged so S_i is exactly symmetric.
// 2 * samples * d^2 flops per neuron at gemm speed. Java spreads neuron ranges across threads.

// The valid band of tap (ki, kj) in "same" geometry (stride 1, ow == W): rows [oyLo, oyHi), columns [oxLo, oxHi),
// flat shift from column index to image index. Empty when oyHi <= oyLo or oxHi <= oxLo.
struct SameBand {
    long oyLo, oyHi, oxLo, oxHi, shift;
    SameBand(int H, int W, int kh, int kw, int ph, int pw, int ki, int kj, long oh, long ow) {
        oyLo = std::max<long>(0, ph - ki);
        oyHi = std::min<long>(oh, (long) H + ph - ki);
        oxLo = std::max<long>(0, pw - kj);
        oxHi = std::min<long>(ow, (long) W + pw - kj);
        shift = (long) (ki - ph) * W + (kj - pw);
        (void) kh;
        (void) kw;
    }
    bool empty() const { return oyHi <= oyLo || oxHi <= oxLo; }
    long begin(long ow) const { return oyLo * ow + oxLo; }
    long end(long ow) const { return (oyHi - 1) * ow + oxHi; }
};

template <typename T>
static void im2colSame(int C, int H, int W, int kh, int kw, int ph, int pw, const T* x, T* col) {
    long oh = H + 2L * ph - kh + 1, ow = W, plane = oh * ow;
    for (int c = 0; c < C; c++) {
        const T* src = x + (long) c * H * W;
        for (int ki = 0; ki < kh; ki++) {
            for (int kj = 0; kj < kw; kj++) {
                T* dst = col + (((long) c * kh + ki) * kw + kj) * plane;
                SameBand b(H, W, kh, kw, ph, pw, ki, kj, oh, ow);
                if (b.empty()) {
                    std::memset(dst, 0, sizeof(T) * (size_t) plane);
                    continue;
                }
                long e0 = b.begin(ow), e1 = b.end(ow);
                std::memset(dst, 0, sizeof(T) * (size_t) e0);
                std::memcpy(dst + e0, src + e0 + b.shift, sizeof(T) * (size_t) (e1 - e0));
                std::memset(dst + e1, 0, sizeof(T) * (size_t) (plane - e1));
                if (b.oxLo > 0 || b.oxHi < ow) {
                    for (long oy = b.oyLo; oy < b.oyHi; oy++) {
                        T* row = dst + oy * ow;
                        for (long ox = 0; ox < b.oxLo; ox++) row[ox] = T(0);
                        for (long ox = b.oxHi; ox < ow; ox++) row[ox] = T(0);
                    }
                }
            }
        }
    }
}

template <typename T> struct BitsOf;
template <> struct BitsOf<float> { typedef uint32_t U; };
template <> struct BitsOf<double> { typedef uint64_t U; };

template <typename T>
static void col2imSame(int C, int H, int W, int kh, int kw, int ph, int pw, const T* col, T* x) {
    typedef typename BitsOf<T>::U U;
    long oh = H + 2L * ph - kh + 1, ow = W, plane = oh * ow;
    std::memset(x, 0, sizeof(T) * (size_t) C * H * W);
    // keep[kj][e]: all ones where column e % ow of tap column kj lands inside its image row
    Scratch<U> keep((size_t) kw * plane);
    for (int kj = 0; kj < kw; kj++) {
        long oxLo = std::max<long>(0, pw - kj), oxHi = std::min<long>(ow, (long) W + pw - kj);
        U* k = keep.p + (long) kj * plane;
        for (long e = 0; e < plane; e++) {
            long ox = e % ow;
            k[e] = (ox >= oxLo && ox < oxHi) ? ~U(0) : U(0);
        }
    }
    for (int c = 0; c < C; c++) {
        T* dst = x + (long) c * H * W;
        for (int ki = 0; ki < kh; ki++) {
            for (int kj = 0; kj < kw; kj++) {
                const T* src = col + (((long) c * kh + ki) * kw + kj) * plane;
                SameBand b(H, W, kh, kw, ph, pw, ki, kj, oh, ow);
                if (b.empty()) continue;
                long e0 = b.begin(ow), e1 = b.end(ow);
                const U* k = keep.p + (long) kj * plane;
                // e + shift is inside the image for every e of the band; wrapped entries add +0
                T* d = dst + (e0 + b.shift);
                const T* sp = src + e0;
                const U* kp = k + e0;
                long len = e1 - e0;
                for (long e = 0; e < len; e++) {
                    U u;
                    std::memcpy(&u, sp + e, sizeof(U));
                    u &= kp[e];
                    T v;
                    std::memcpy(&v, &u, sizeof(U));
                    d[e] += v;
                }
            }
        }
    }
}

template <typename T>
static void im2col(int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, const T* x, T* col) {
    if (sh == 1 && sw == 1 && W + 2L * pw - kw + 1 == W) {
        im2colSame<T>(C, H, W, kh, kw, ph, pw, x, col);
        return;
    }
    long oh = (H + 2L * ph - kh) / sh + 1, ow = (W + 2L * pw - kw) / sw + 1;
    T* dst = col;
    for (int c = 0; c < C; c++) {
        for (int ki = 0; ki < kh; ki++) {
            for (int kj = 0; kj < kw; kj++) {
                // valid output columns: 0 <= ox*sw - pw + kj < W
                long oxLo = std::max<long>(0, (pw - kj + sw - 1) / sw);
                long oxHi = std::min<long>(ow, (W - 1L + pw - kj) / sw + 1);  // exclusive
                if (W - 1L + pw - kj < 0) oxHi = 0;
                if (oxHi < oxLo) oxHi = oxLo;
                for (long oy = 0; oy < oh; oy++, dst += ow) {
                    long iy = oy * sh - ph + ki;
                    if (iy < 0 || iy >= H) {
                        for (long ox = 0; ox < ow; ox++) dst[ox] = T(0);
                        continue;
                    }
                    const T* src = x + ((long) c * H + iy) * W;
                    for (long ox = 0; ox < oxLo; ox++) dst[ox] = T(0);
                    if (sw == 1) {
                        long ix0 = oxLo - pw + kj;
                        if (oxHi > oxLo) std::memcpy(dst + oxLo, src + ix0, sizeof(T) * (size_t) (oxHi - oxLo));
                    } else {
                        for (long ox = oxLo; ox < oxHi; ox++) dst[ox] = src[ox * sw - pw + kj];
                    }
                    for (long ox = oxHi; ox < ow; ox++) dst[ox] = T(0);
                }
            }
        }
    }
}

template <typename T>
static void col2im(int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, const T* col, T* x) {
    if (sh == 1 && sw == 1 && W + 2L * pw - kw + 1 == W) {
        col2imSame<T>(C, H, W, kh, kw, ph, pw, col, x);
        return;
    }
    long oh = (H + 2L * ph - kh) / sh + 1, ow = (W + 2L * pw - kw) / sw + 1;
    std::memset(x, 0, sizeof(T) * (size_t) C * H * W);
    const T* src = col;
    for (int c = 0; c < C; c++) {
        for (int ki = 0; ki < kh; ki++) {
            for (int kj = 0; kj < kw; kj++) {
                long oxLo = std::max<long>(0, (pw - kj + sw - 1) / sw);
                long oxHi = std::min<long>(ow, (W - 1L + pw - kj) / sw + 1);
                if (W - 1L + pw - kj < 0) oxHi = 0;
                if (oxHi < oxLo) oxHi = oxLo;
                for (long oy = 0; oy < oh; oy++, src += ow) {
                    long iy = oy * sh - ph + ki;
                    if (iy < 0 || iy >= H) continue;
                    T* dst = x + ((long) c * H + iy) * W;
                    if (sw == 1) {
                        T* d = dst + (oxLo - pw + kj);
                        for (long ox = oxLo; ox < oxHi; ox++) d[ox - oxLo] += src[ox];
                    } else {
                        for (long ox = oxLo; ox < oxHi; ox++) dst[ox * sw - pw + kj] += src[ox];
                    }
                }
            }
        }
    }
}

template <typename T>
static void weightedGram(int samples, int d, int from, int to, int neurons, const T* x, const T* w, T* s) {
    if (samples <= 0 || d <= 0 || to <= from) return;
    Scratch<T> scaled((size_t) samples * d);
    for (int i = from; i < to; i++) {
        for (long n = 0; n < samples; n++) {
            T wi = w[n * neurons + i];
            const T* xr = x + n * d;
            T* yr = scaled.p + n * d;
            for (int j = 0; j < d; j++) yr[j] = wi * xr[j];
        }
        T* si = s + (long) i * d * d;
        gemmOne<T>(true, false, d, d, samples, T(1), scaled.p, d, x, d, T(1), si, d);
        for (long r = 0; r < d; r++) {
            for (long c = 0; c < r; c++) {
                T v = T(0.5) * (si[r * d + c] + si[c * d + r]);
                si[r * d + c] = v;
                si[c * d + r] = v;
            }
        }
    }
}
