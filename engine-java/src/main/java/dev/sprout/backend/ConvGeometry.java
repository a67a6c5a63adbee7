package dev.sprout.backend;

/**
 * The geometry of a 2-D convolution on one image: channels, input size, kernel, stride and zero padding.
 * Output size follows the usual floor rule; a geometry with an empty output is rejected.
 */
public record ConvGeometry(int channels, int height, int width, int kernelH, int kernelW,
                           int strideH, int strideW, int padH, int padW) {

    public ConvGeometry {
        if (channels <= 0 || height <= 0 || width <= 0 || kernelH <= 0 || kernelW <= 0 || strideH <= 0
                || strideW <= 0 || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("conv: invalid geometry " + describe(channels, height, width, kernelH,
                    kernelW, strideH, strideW, padH, padW));
        }
        if (height + 2 * padH < kernelH || width + 2 * padW < kernelW) {
            throw new IllegalArgumentException("conv: kernel " + kernelH + "x" + kernelW + " larger than padded input "
                    + (height + 2 * padH) + "x" + (width + 2 * padW));
        }
    }

    public static ConvGeometry square(int channels, int height, int width, int kernel, int stride, int pad) {
        return new ConvGeometry(channels, height, width, kernel, kernel, stride, stride, pad, pad);
    }

    public int outH() {
        return (height + 2 * padH - kernelH) / strideH + 1;
    }

    public int outW() {
        return (width + 2 * padW - kernelW) / strideW + 1;
    }

    /** Rows of the column matrix: {@code C * kh * kw}. */
    public int colRows() {
        return channels * kernelH * kernelW;
    }

    /** Columns of the column matrix: {@code outH * outW}. */
    public int colCols() {
        return outH() * outW();
    }

    public int imageSize() {
        return channels * height * width;
    }

    private static String describe(int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
        return "[C=" + c + ", H=" + h + ", W=" + w + ", kernel=" + kh + "x" + kw + ", stride=" + sh + "x" + sw
                + ", pad=" + ph + "x" + pw + "]";
    }

    @Override
    public String toString() {
        return describe(channels, height, width, kernelH, kernelW, strideH, strideW, padH, padW);
    }
}
