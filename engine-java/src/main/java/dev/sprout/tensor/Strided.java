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
        /**
         * {@code base[k]} is operand k's storage index of the row's first element, {@code step[k]} its stride along
         * the row.
         */
        void row(int[] base, int len, int[] step);
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

    /**
     * Visits the rows of {@code shape}. Adjacent axes that every operand lays out contiguously relative to each other
     * (and size-1 axes) are merged first, so a same-shape contiguous operation is one long row and a channel-wise
     * broadcast over {@code [N, C, H, W]} has rows of {@code H * W}. The callback gets each operand's stride along
     * the (merged) row.
     */
    static void forEachRow(Shape shape, int[][] strides, int[] offsets, RowFn fn) {
        int[][] merged = new int[strides.length][];
        Shape m = coalesce(shape, strides, merged);
        forEachRowRaw(m, merged, offsets, fn);
    }

    /** Merges axes i and i+1 when stride[i] == stride[i+1] * dim[i+1] for every operand; drops size-1 axes. */
    static Shape coalesce(Shape shape, int[][] strides, int[][] out) {
        int r = shape.rank(), ops = strides.length;
        int[] dims = new int[r];
        int[][] st = new int[ops][r];
        int n = 0;
        for (int i = 0; i < r; i++) {
            int d = shape.dim(i);
            if (d == 1 && r > 1) {
                continue;
            }
            if (n > 0) {
                boolean ok = true;
                for (int k = 0; k < ops && ok; k++) {
                    ok = st[k][n - 1] == strides[k][i] * d;
                }
                if (ok) {
                    dims[n - 1] *= d;
                    for (int k = 0; k < ops; k++) {
                        st[k][n - 1] = strides[k][i];
                    }
                    continue;
                }
            }
            dims[n] = d;
            for (int k = 0; k < ops; k++) {
                st[k][n] = strides[k][i];
            }
            n++;
        }
        if (n == 0 && r > 0) { // all axes of size 1
            dims[0] = 1;
            for (int k = 0; k < ops; k++) {
                st[k][0] = strides[k][r - 1];
            }
            n = 1;
        }
        for (int k = 0; k < ops; k++) {
            out[k] = java.util.Arrays.copyOf(st[k], n);
        }
        return Shape.of(java.util.Arrays.copyOf(dims, n));
    }

    private static void forEachRowRaw(Shape shape, int[][] strides, int[] offsets, RowFn fn) {
        int r = shape.rank();
        int ops = strides.length;
        int[] base = offsets.clone();
        if (shape.numel() == 0) {
            return;
        }
        int[] step = new int[ops];
        for (int k = 0; k < ops; k++) {
            step[k] = r == 0 ? 0 : strides[k][r - 1];
        }
        if (r == 0) {
            fn.row(base, 1, step);
            return;
        }
        int len = shape.dim(r - 1);
        int outer = shape.numel() / len;
        int[] counter = new int[r - 1];
        for (int o = 0; o < outer; o++) {
            fn.row(base, len, step);
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
