// eigen.h - batched symmetric eigen-solver for many small matrices. Part of isa_body.h.
//
// Algorithm: Householder tridiagonalisation + implicit QL with Wilkinson-type shifts (EISPACK tred2/tql2, in
// the Numerical Recipes "tqli" form), per matrix, one matrix after another (Java spreads batches over threads).
// Why not Jacobi: a cyclic Jacobi sweep costs ~4n^3 flops (plus 3n^3 for the vectors) and takes 6-10 sweeps,
// 40-70 n^3 in all; tridiagonalisation (2n^3 as written here, both triangles), accumulating Q (4/3 n^3) and the
// QL rotations (~4.5 n^3 for all vectors) are ~8 n^3, and every vector operation in them is a contiguous,
// unit-stride row operation that vectorises fully. Jacobi's advantages (high relative accuracy, trivially
// parallel rotations) do not pay here, where the matrices are small and many, and batch-level threads already
// use every core.
//
// Layout for vectorisation (row-major throughout):
//   * tridiagonalisation: the column below the diagonal is read as the (equal) row; p = tau A22 v is a set of
//     row dot products; the rank-2 update A22 -= v q^T + q v^T is row axpys.
//   * Q is accumulated transposed (Qt = H_{n-3} ... H_0, row dots + row axpys), and QL's plane rotations of
//     columns i, i+1 of Q Z become rotations of rows i, i+1 of Qt: two contiguous rows of length n.
//   * The scalar recurrences of QL (d, e, shifts, rotation angles: O(n) per sweep) run in double even for f32
//     data; the convergence test uses T's epsilon, so f32 matrices take no more sweeps than f32 accuracy needs.
// Costs at n = 64 (f32): the whole working set (two 16 KiB matrices) lives in L1. At n = 576 the rank-2 updates
// and rotations stream 1.3 MiB matrices through L2 once per step / sweep: correct but ~2-3x slower than a
// blocked (latrd + syr2k) reduction and divide-and-conquer would be (follow-up).
// Smallest k: all eigenvalues are found, sorted ascending, and the first k pairs copied out; eigenvalues only
// (v == null) skips Q and every rotation of vectors (~25x cheaper).

template <typename T>
static inline T eigDot(const T* a, const T* b, long n) {
    typedef Vec<T> VT;
    constexpr int L = VT::L;
    typename VT::V s0 = VT::zero(), s1 = VT::zero();
    long i = 0;
    for (; i + 2 * L <= n; i += 2 * L) {
        s0 = VT::fma(VT::load(a + i), VT::load(b + i), s0);
        s1 = VT::fma(VT::load(a + i + L), VT::load(b + i + L), s1);
    }
    for (; i + L <= n; i += L) s0 = VT::fma(VT::load(a + i), VT::load(b + i), s0);
    T s = VT::sum(VT::add(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

// y -= alpha * x
template <typename T>
static inline void eigAxpyNeg(T alpha, const T* x, T* y, long n) {
    for (long i = 0; i < n; i++) y[i] -= alpha * x[i];
}

template <typename T>
struct EigWork {
    Scratch<T> a, qt, v, p;
    std::vector<double> d, e;
    std::vector<T> tau;
    std::vector<int> idx;
    void reserve(int n) {
        a.reserve((size_t) n * n);
        qt.reserve((size_t) n * n);
        v.reserve(n);
        p.reserve(n);
        d.resize(n);
        e.resize(n);
        tau.resize(n);
        idx.resize(n);
    }
};

// Reduces the full symmetric matrix in w.a (n x n) to tridiagonal form: d, e (e[i] = T[i+1][i], e[n-1] = 0);
// the Householder vectors (unit first element implied) are left in the rows of w.a right of the diagonal.
template <typename T>
static void eigTridiagonalise(int n, EigWork<T>& w) {
    T* A = w.a.p;
    T* v = w.v.p;
    T* p = w.p.p;
    for (int j = 0; j + 2 < n; j++) {
        long m = n - j - 1;
        T* row = A + (long) j * n + j + 1;  // x = A[j+1.., j] = A[j, j+1..]
        double x0 = row[0];
        double tail = 0;
        for (long i = 1; i < m; i++) tail += (double) row[i] * row[i];
        w.d[j] = A[(long) j * n + j];
        if (tail == 0) {  // already tridiagonal in this column: H = I
            w.tau[j] = T(0);
            w.e[j] = x0;
            row[0] = T(1);
            for (long i = 1; i < m; i++) row[i] = T(0);
            continue;
        }
        double norm = std::sqrt(x0 * x0 + tail);
        double beta = x0 >= 0 ? -norm : norm;
        double tau = (beta - x0) / beta;
        double scale = 1.0 / (x0 - beta);
        v[0] = T(1);
        for (long i = 1; i < m; i++) v[i] = (T) (row[i] * scale);
        w.tau[j] = (T) tau;
        w.e[j] = beta;
        T* A22 = A + (long) (j + 1) * n + j + 1;
        // p = tau A22 v; K = tau / 2 (p . v); q = p - K v (in p)
        double pv = 0;
        for (long r = 0; r < m; r++) {
            p[r] = (T) tau * eigDot(A22 + r * n, v, m);
            pv += (double) p[r] * v[r];
        }
        T K = (T) (0.5 * tau * pv);
        for (long r = 0; r < m; r++) p[r] -= K * v[r];
        // A22 -= v q^T + q v^T
        for (long r = 0; r < m; r++) {
            T* ar = A22 + r * n;
            T vr = v[r], qr = p[r];
            for (long c = 0; c < m; c++) ar[c] -= vr * p[c] + qr * v[c];
        }
        for (long i = 0; i < m; i++) row[i] = v[i];
    }
    if (n >= 2) {
        w.d[n - 2] = A[(long) (n - 2) * n + n - 2];
        w.e[n - 2] = A[(long) (n - 1) * n + n - 2];
    }
    w.d[n - 1] = A[(long) (n - 1) * n + n - 1];
    w.e[n - 1] = 0;
}

// Qt = Q^T = H_{n-3} ... H_0 (each H_j = I - tau_j v_j v_j^T acting on indices j+1..n-1).
template <typename T>
static void eigFormQt(int n, EigWork<T>& w) {
    T* Q = w.qt.p;
    std::memset(Q, 0, sizeof(T) * (size_t) n * n);
    for (long i = 0; i < n; i++) Q[i * n + i] = T(1);
    for (int j = n - 3; j >= 0; j--) {
        T tau = w.tau[j];
        if (tau == T(0)) continue;
        long m = n - j - 1;
        const T* v = w.a.p + (long) j * n + j + 1;
        // Qt[r, j+1..] -= tau (Qt[r, j+1..] . v) v^T for rows r >= j+1 (other rows are zero there)
        for (long r = j + 1; r < n; r++) {
            T* qr = Q + r * n + j + 1;
            T dot = eigDot(qr, v, m);
            if (dot != T(0)) eigAxpyNeg(tau * dot, v, qr, m);
        }
    }
}

// Implicit QL on (d, e); rotations applied to the rows of qt when it is not null. Returns false if an
// eigenvalue needed more than 60 iterations.
template <typename T>
static bool eigQL(int n, double* d, double* e, T* qt) {
    const double eps = std::numeric_limits<T>::epsilon();
    for (int l = 0; l < n; l++) {
        int iter = 0, m;
        do {
            for (m = l; m < n - 1; m++) {
                double dd = std::fabs(d[m]) + std::fabs(d[m + 1]);
                if (std::fabs(e[m]) <= eps * dd) break;
            }
            if (m != l) {
                if (iter++ == 60) return false;
                double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                double r = std::hypot(g, 1.0);
                g = d[m] - d[l] + e[l] / (g + (g >= 0 ? std::fabs(r) : -std::fabs(r)));
                double s = 1, c = 1, p = 0;
                int i;
                for (i = m - 1; i >= l; i--) {
                    double f = s * e[i], b = c * e[i];
                    e[i + 1] = (r = std::hypot(f, g));
                    if (r == 0) {
                        d[i + 1] -= p;
                        e[m] = 0;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2.0 * c * b;
                    d[i + 1] = g + (p = s * r);
                    g = c * r - b;
                    if (qt != nullptr) {
                        T* zi = qt + (long) i * n;
                        T* zj = zi + n;
                        T cs = (T) c, sn = (T) s;
                        for (long k = 0; k < n; k++) {
                            T f1 = zj[k];
                            zj[k] = sn * zi[k] + cs * f1;
                            zi[k] = cs * zi[k] - sn * f1;
                        }
                    }
                }
                if (r == 0 && i >= l) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
        } while (m != l);
    }
    return true;
}

// One matrix: lower triangle of a (n x n) -> k smallest eigenpairs (w[k], v[n x k] or null).
template <typename T>
static bool symEigOne(int n, int k, const T* a, T* wOut, T* vOut, EigWork<T>& w) {
    if (n == 0) return true;
    T* A = w.a.p;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j <= i; j++) {
            T x = a[i * n + j];
            A[i * n + j] = x;
            A[j * n + i] = x;
        }
    }
    eigTridiagonalise(n, w);
    T* qt = nullptr;
    if (vOut != nullptr) {
        eigFormQt(n, w);
        qt = w.qt.p;
    }
    if (!eigQL<T>(n, w.d.data(), w.e.data(), qt)) return false;
    std::iota(w.idx.begin(), w.idx.begin() + n, 0);
    const double* d = w.d.data();
    std::stable_sort(w.idx.begin(), w.idx.begin() + n, [d](int x, int y) { return d[x] < d[y]; });
    for (int j = 0; j < k; j++) {
        int src = w.idx[j];
        wOut[j] = (T) d[src];
        if (vOut != nullptr) {
            const T* z = qt + (long) src * n;
            for (long r = 0; r < n; r++) vOut[r * k + j] = z[r];
        }
    }
    return true;
}

template <typename T>
static int symEigBatch(int batch, int n, int k, const T* a, T* w, T* v) {
    EigWork<T> work;
    work.reserve(std::max(n, 1));
    for (int b = 0; b < batch; b++) {
        bool ok = symEigOne<T>(n, k, a + (long) b * n * n, w + (long) b * k, v == nullptr ? nullptr : v + (long) b * n * k,
                               work);
        if (!ok) return b + 1;
    }
    return 0;
}
