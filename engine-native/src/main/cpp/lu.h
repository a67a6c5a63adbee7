// lu.h - LU with partial pivoting and solve, real (f32/f64) and complex (c64). Part of isa_body.h.
//
// gesv: A X = B in place, row-major, LAPACK's conventions (whole rows exchanged at each step; a pivot that is
// exactly zero makes the result i + 1 for the first such i, the factorisation completes, and B is left as is).
// Blocked right-looking factorisation, panel width NB = 64:
//   1. panel (columns jb..jb+NB, rows jb..n): pivot search down the column (strided, O(n)), exchange of two
//      whole rows (contiguous), rank-1 updates restricted to the panel's columns;
//   2. U12 = L11^-1 A12: row axpys on the panel's rows right of the panel;
//   3. A22 -= L21 U12: one packed gemm (gemmOne / cgemmOne), i.e. ~all 2/3 n^3 (complex: 8/3 n^3) flops run at
//      gemm speed, and the trailing matrix is streamed once per panel instead of once per column.
// Solve: row exchanges on B, then forward (unit L) and backward (U) substitution in row blocks of NB: each block
// first subtracts the contribution of the blocks already solved with one gemm (at nrhs = n, the inverse, that is
// almost all of the 2n^3 flops), then finishes with row axpys of length nrhs inside the block. For nrhs = 1: row dot
// products; for complex nrhs < 16: row axpys throughout.

static constexpr int LU_NB = 64;

template <typename T>
static int gesv(int n, int nrhs, T* a, T* b) {
    if (n == 0) return 0;
    std::vector<int> piv(n);
    int info = 0;
    for (int jb = 0; jb < n; jb += LU_NB) {
        int je = std::min(n, jb + LU_NB);
        for (int j = jb; j < je; j++) {
            int p = j;
            T best = std::fabs(a[(long) j * n + j]);
            for (int i = j + 1; i < n; i++) {
                T m = std::fabs(a[(long) i * n + j]);
                if (m > best) {
                    best = m;
                    p = i;
                }
            }
            piv[j] = p;
            if (p != j) std::swap_ranges(a + (long) j * n, a + (long) j * n + n, a + (long) p * n);
            T* rj = a + (long) j * n;
            T pivot = rj[j];
            if (pivot == T(0)) {
                if (info == 0) info = j + 1;
                continue;
            }
            T inv = T(1) / pivot;
            for (int i = j + 1; i < n; i++) {
                T* ri = a + (long) i * n;
                T l = ri[j] * inv;
                ri[j] = l;
                if (l != T(0)) {
                    for (int c = j + 1; c < je; c++) ri[c] -= l * rj[c];
                }
            }
        }
        if (je == n) break;
        // U12 = L11^-1 A12
        for (int i = jb + 1; i < je; i++) {
            T* ri = a + (long) i * n;
            for (int t = jb; t < i; t++) {
                T l = ri[t];
                if (l != T(0)) eigAxpyNeg(l, a + (long) t * n + je, ri + je, n - je);
            }
        }
        // A22 -= L21 U12
        gemmOne<T>(false, false, n - je, n - je, je - jb, T(-1), a + (long) je * n + jb, n, a + (long) jb * n + je, n,
                   T(1), a + (long) je * n + je, n);
    }
    if (info != 0) return info;
    for (int j = 0; j < n; j++) {
        if (piv[j] != j) std::swap_ranges(b + (long) j * nrhs, b + (long) j * nrhs + nrhs, b + (long) piv[j] * nrhs);
    }
    if (nrhs == 1) {
        for (long i = 0; i < n; i++) b[i] -= eigDot(a + i * n, b, i);
        for (long i = n - 1; i >= 0; i--) {
            const T* ri = a + i * n;
            b[i] = (b[i] - eigDot(ri + i + 1, b + i + 1, n - 1 - i)) / ri[i];
        }
        return 0;
    }
    // forward (unit L) and backward (U) substitution in row blocks of LU_NB: the part of each block's update that
    // uses earlier blocks is one gemm, the rest row axpys inside the block
    for (long i0 = 0; i0 < n; i0 += LU_NB) {
        long i1 = std::min<long>(n, i0 + LU_NB);
        if (i0 > 0)
            gemmOne<T>(false, false, i1 - i0, nrhs, i0, T(-1), a + i0 * n, n, b, nrhs, T(1), b + i0 * nrhs, nrhs);
        for (long i = i0; i < i1; i++) {
            T* bi = b + i * nrhs;
            for (long t = i0; t < i; t++) {
                T l = a[i * n + t];
                if (l != T(0)) eigAxpyNeg(l, b + t * nrhs, bi, nrhs);
            }
        }
    }
    for (long i1 = n; i1 > 0; i1 -= LU_NB) {
        long i0 = std::max<long>(0, i1 - LU_NB);
        if (i1 < n)
            gemmOne<T>(false, false, i1 - i0, nrhs, n - i1, T(-1), a + i0 * n + i1, n, b + i1 * nrhs, nrhs, T(1),
                       b + i0 * nrhs, nrhs);
        for (long i = i1 - 1; i >= i0; i--) {
            T* bi = b + i * nrhs;
            const T* ri = a + i * n;
            for (long t = i + 1; t < i1; t++) {
                T u = ri[t];
                if (u != T(0)) eigAxpyNeg(u, b + t * nrhs, bi, nrhs);
            }
            T inv = T(1) / ri[i];
            for (long c = 0; c < nrhs; c++) bi[c] *= inv;
        }
    }
    return 0;
}

// y -= (lr + i li) * x on interleaved complex vectors of n elements.
static inline void cAxpyNeg(float lr, float li, const float* x, float* y, long n) {
    for (long c = 0; c < n; c++) {
        float xr = x[2 * c], xi = x[2 * c + 1];
        y[2 * c] -= lr * xr - li * xi;
        y[2 * c + 1] -= lr * xi + li * xr;
    }
}

// (re, im) of 1 / (pr + i pi), computed in double.
static inline void cInverse(float pr, float pi, float& ir, float& ii) {
    double r = pr, i = pi, d = r * r + i * i;
    ir = (float) (r / d);
    ii = (float) (-i / d);
}

static int cgesv(int n, int nrhs, float* a, float* b) {
    if (n == 0) return 0;
    std::vector<int> piv(n);
    int info = 0;
    const long ld = 2L * n;  // floats per row
    for (int jb = 0; jb < n; jb += LU_NB) {
        int je = std::min(n, jb + LU_NB);
        for (int j = jb; j < je; j++) {
            int p = j;
            float best = std::fabs(a[j * ld + 2 * j]) + std::fabs(a[j * ld + 2 * j + 1]);
            for (int i = j + 1; i < n; i++) {
                float m = std::fabs(a[i * ld + 2 * j]) + std::fabs(a[i * ld + 2 * j + 1]);
                if (m > best) {
                    best = m;
                    p = i;
                }
            }
            piv[j] = p;
            if (p != j) std::swap_ranges(a + j * ld, a + j * ld + ld, a + p * ld);
            float* rj = a + j * ld;
            float pr = rj[2 * j], pi = rj[2 * j + 1];
            if (pr == 0.0f && pi == 0.0f) {
                if (info == 0) info = j + 1;
                continue;
            }
            float ir, ii;
            cInverse(pr, pi, ir, ii);
            for (int i = j + 1; i < n; i++) {
                float* ri = a + i * ld;
                float xr = ri[2 * j], xi = ri[2 * j + 1];
                float lr = xr * ir - xi * ii, li = xr * ii + xi * ir;
                ri[2 * j] = lr;
                ri[2 * j + 1] = li;
                if (lr != 0.0f || li != 0.0f) cAxpyNeg(lr, li, rj + 2 * (j + 1), ri + 2 * (j + 1), je - j - 1);
            }
        }
        if (je == n) break;
        for (int i = jb + 1; i < je; i++) {
            float* ri = a + i * ld;
            for (int t = jb; t < i; t++) {
                float lr = ri[2 * t], li = ri[2 * t + 1];
                if (lr != 0.0f || li != 0.0f) cAxpyNeg(lr, li, a + t * ld + 2 * je, ri + 2 * je, n - je);
            }
        }
        cgemmOne(0, 0, n - je, n - je, je - jb, -1.0f, 0.0f, a + je * ld + 2 * jb, n, a + jb * ld + 2 * je, n, 1.0f,
                 0.0f, a + je * ld + 2 * je, n);
    }
    if (info != 0) return info;
    const long ldb = 2L * nrhs;
    for (int j = 0; j < n; j++) {
        if (piv[j] != j) std::swap_ranges(b + j * ldb, b + j * ldb + ldb, b + (long) piv[j] * ldb);
    }
    // blocked substitutions as in gesv; with few right-hand sides the 4M products do not pay, so plain row axpys
    const long nb = nrhs >= 16 ? LU_NB : n;
    for (long i0 = 0; i0 < n; i0 += nb) {
        long i1 = std::min<long>(n, i0 + nb);
        if (i0 > 0)
            cgemmOne(0, 0, i1 - i0, nrhs, i0, -1.0f, 0.0f, a + i0 * ld, n, b, nrhs, 1.0f, 0.0f, b + i0 * ldb, nrhs);
        for (long i = i0; i < i1; i++) {
            float* bi = b + i * ldb;
            for (long t = i0; t < i; t++) {
                float lr = a[i * ld + 2 * t], li = a[i * ld + 2 * t + 1];
                if (lr != 0.0f || li != 0.0f) cAxpyNeg(lr, li, b + t * ldb, bi, nrhs);
            }
        }
    }
    for (long i = n - 1; i >= 0; i--) {
        long blockEnd = std::min<long>(n, (i / nb + 1) * nb);
        if (i + 1 == blockEnd && blockEnd < n) {  // first row handled in this block: fold in the later blocks
            long i0 = i / nb * nb;
            cgemmOne(0, 0, blockEnd - i0, nrhs, n - blockEnd, -1.0f, 0.0f, a + i0 * ld + 2 * blockEnd, n,
                     b + blockEnd * ldb, nrhs, 1.0f, 0.0f, b + i0 * ldb, nrhs);
        }
        float* bi = b + i * ldb;
        const float* ri = a + i * ld;
        for (long t = i + 1; t < blockEnd; t++) {
            float ur = ri[2 * t], ui = ri[2 * t + 1];
            if (ur != 0.0f || ui != 0.0f) cAxpyNeg(ur, ui, b + t * ldb, bi, nrhs);
        }
        float ir, ii;
        cInverse(ri[2 * i], ri[2 * i + 1], ir, ii);
        for (long c = 0; c < nrhs; c++) {
            float xr = bi[2 * c], xi = bi[2 * c + 1];
            bi[2 * c] = xr * ir - xi * ii;
            bi[2 * c + 1] = xr * ii + xi * ir;
        }
    }
    return 0;
}
