// conv.cu: convolution lowering for one image, im2col ([C, H, W] -> [C*kh*kw, outH*outW]) and its adjoint
// col2im, with the geometry of dev.sprout.backend.ConvGeometry (stride, zero padding; no dilation).
//
// Performance model. Both are pure data movement, bound by memory bandwidth (about 3 TB/s on an H100).
//  - im2col: grid y strides over column rows (c, ki, kj), decoded once per row; grid x and the threads
//    stride over the outH*outW pixels of a row, so the writes (the larger side, kh*kw times the image) are
//    contiguous and coalesced; the reads are the image row segments, which stay in L1/L2 (each image value
//    is read kh*kw times).
//  - col2im: a gather, one thread per image pixel (grid y strides over channels, x over H*W): it sums the
//    at most ceil(kh/sh)*ceil(kw/sw) column entries that map onto the pixel, in increasing column-row order,
//    starting from zero. No atomics, so it is deterministic, and the order is the Java reference's (which
//    adds rows in increasing order into a zeroed image), so the results agree bit for bit. Pixels of a warp
//    read neighbouring column entries (coalesced for stride 1, strided by sw otherwise).
//  Indices into the column matrix are 64-bit; per-row and per-pixel arithmetic is 32-bit.

namespace conv_detail {

template <typename T>
__device__ __forceinline__ void im2col(const T* __restrict__ x, T* __restrict__ col, int C, int H, int W, int kh,
                                       int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    const int rows = C * kh * kw;
    const int pixels = oh * ow;
    const int pstride = gridDim.x * blockDim.x;
    for (int row = blockIdx.y; row < rows; row += gridDim.y) {
        const int kj = row % kw;
        const int ki = (row / kw) % kh;
        const int c = row / (kw * kh);
        const T* img = x + (long long) c * H * W;
        T* dst = col + (long long) row * pixels;
        for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < pixels; p += pstride) {
            const int oy = p / ow, ox = p - oy * ow;
            const int iy = oy * sh - ph + ki, ix = ox * sw - pw + kj;
            dst[p] = (iy >= 0 && iy < H && ix >= 0 && ix < W) ? img[iy * W + ix] : T(0);
        }
    }
}

template <typename T>
__device__ __forceinline__ void col2im(const T* __restrict__ col, T* __restrict__ x, int C, int H, int W, int kh,
                                       int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    const int hw = H * W;
    const long long pixels = (long long) oh * ow;
    const int pstride = gridDim.x * blockDim.x;
    for (int c = blockIdx.y; c < C; c += gridDim.y) {
        for (int q = blockIdx.x * blockDim.x + threadIdx.x; q < hw; q += pstride) {
            const int iy = q / W, ix = q - iy * W;
            T acc = T(0);
            for (int ki = 0; ki < kh; ++ki) {
                const int ty = iy + ph - ki;  // = oy * sh for the output row oy that reads this pixel
                if (ty < 0) {
                    break;  // ty only decreases as ki grows
                }
                if (ty % sh != 0 || ty / sh >= oh) {
                    continue;
                }
                const int oy = ty / sh;
                for (int kj = 0; kj < kw; ++kj) {
                    const int tx = ix + pw - kj;
                    if (tx < 0) {
                        break;
                    }
                    if (tx % sw != 0 || tx / sw >= ow) {
                        continue;
                    }
                    const int ox = tx / sw;
                    const long long row = ((long long) c * kh + ki) * kw + kj;
                    acc += col[row * pixels + (long long) oy * ow + ox];
                }
            }
            x[(long long) c * hw + q] = acc;
        }
    }
}

}  // namespace conv_detail

// ---------------------------------------------------------------------------------------------- entry points
// im2col: block 256, grid (ceil(outH*outW / 256) capped, C*kh*kw rows capped at 65535), both strided.
extern "C" __global__ void __launch_bounds__(256, 4) sprout_im2col_f32(
        const float* x, float* col, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    conv_detail::im2col<float>(x, col, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow);
}

extern "C" __global__ void __launch_bounds__(256, 4) sprout_im2col_f64(
        const double* x, double* col, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    conv_detail::im2col<double>(x, col, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow);
}

// col2im: block 256, grid (ceil(H*W / 256) capped, C capped at 65535), both strided. Overwrites the image.
extern "C" __global__ void __launch_bounds__(256, 4) sprout_col2im_f32(
        const float* col, float* x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    conv_detail::col2im<float>(col, x, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow);
}

extern "C" __global__ void __launch_bounds__(256, 4) sprout_col2im_f64(
        const double* col, double* x, int C, int H, int W, int kh, int kw, int sh, int sw, int ph, int pw, int oh, int ow) {
    conv_detail::col2im<double>(col, x, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow);
}
