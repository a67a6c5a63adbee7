// lowering.h - convolution lowering (im2col / col2im) and weighted Gram matrices. Part of isa_body.h.
//
// im2col: one image [C, H, W] -> columns [C*kh*kw, outH*outW], row (c, ki, kj), column (oy, ox), zero padding;
// for stride 1 the valid part of each output row is one contiguous copy. col2im is its adjoint (it zeroes the
// image, then accumulates). Memory-bound copies: no arithmetic to speak of.
// weightedGram: S_i += (diag(w_i) X)^T X for neurons [from, to) of the batch: one scaled copy of X (samples x d)
// and one packed gemm (T, N) per neuron, then the two triangles averaged so S_i is exactly symmetric.
// 2 * samples * d^2 flops per neuron at gemm speed. Java spreads neuron ranges across threads.

template <typename T>
static void im2col(int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, const T* x, T* col) {
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
