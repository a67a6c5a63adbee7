package dev.sprout.tensor;

/**
 * Iteration over the rows (last axis) of a shape, with several operands each given by its own strides and
 * offset: the outer axes are walked with an odometer, and each row is handed to a callback with the storage
 * index of its first element in every operand. Kernels then run a tight loop along the row.
 */
final class Strided {
    private Strided() {
    }

    interface RowFn {
        /** {@code base[k]} is operand k's storage index of the row's first element. */
        void row(int[] base, int len);
    }

    /** Strides of {@code t} broadcast to {@code out} (0 along broadcast axes). */
    static int[] broadcastStrides(Tensor t, Shape out) {
        int r = out.rank(), tr = t.rank();
        int[] s = new int[r];
        int[] ts = t.strides();
        for (int i = 0; i < r; i++) {
            int ti = i - (r - tr);
            s[i] = ti < 0 || t.shape().dim(ti) == 1 ? 0 : ts[ti];
        }
        return s;
    }

    /** Inner (last-axis) stride, 0 for rank 0. */
    static int inner(int[] strides) {
        return strides.length == 0 ? 0 : strides[strides.length - 1];
    }

    static void forEachRow(Shape shape, int[][] strides, int[] offsets, RowFn fn) {
        int r = shape.rank();
        int ops = strides.length;
        int[] base = offsets.clone();
        if (shape.numel() == 0) {
            return;
        }
        if (r == 0) {
            fn.row(base, 1);
            return;
        }
        int len = shape.dim(r - 1);
        int outer = shape.numel() / len;
        int[] counter = new int[r - 1];
        for (int o = 0; o < outer; o++) {
            fn.row(base, len);
            // advance the odometer over axes r-2 .. 0
            for (int ax = r - 2; ax >= 0; ax--) {
                counter[ax]++;
                if (counter[ax] < shape.dim(ax)) {
                    for (int k = 0; k < ops; k++) {
                        base[k] += strides[k][ax];
                    }
                    break;
                }
                for (int k = 0; k < ops; k++) {
                    base[k] -= strides[k][ax] * (shape.dim(ax) - 1);
                }
                counter[ax] = 0;
            }
        }
    }
}
