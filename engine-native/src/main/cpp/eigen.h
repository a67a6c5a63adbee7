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

// Padded-row kernels: rows have a stride ld that is a multiple of the vector length, the columns in [from, ld) are
// processed as whole vectors (from rounded down to a multiple of L), and the vectors they combine with are zero
// outside the active range, so the extra columns contribute nothing and are left unchanged. No scalar tails.
template <typename T>
static inline long eigAlignDown(long c) {
    return c / Vec<T>::L * Vec<T>::L;
}

template <typename T>
static inline T eigDotPadded(const T* a, const T* b, long from, long ld) {
    typedef Vec<T> VT;
    constexpr int L = VT::L;
    typename VT::V s0 = VT::zero(), s1 = VT::zero();
    long c = eigAlignDown<T>(from);
    for (; c + 2 * L <= ld; c += 2 * L) {
        s0 = VT::fma(VT::load(a + c), VT::load(b + c), s0);
        s1 = VT::fma(VT::load(a + c + L), VT::load(b + c + L), s1);
    }
    if (c < ld) s0 = VT::fma(VT::load(a + c), VT::load(b + c), s0);
    return VT::sum(VT::add(s0, s1));
}

// row -= vr * q + qr * v over [from, ld)
template <typename T>
static inline void eigRank2Padded(T* row, T vr, const T* q, T qr, const T* v, long from, long ld) {
    typedef Vec<T> VT;
    constexpr int L = VT::L;
    typename VT::V a = VT::set1(-vr), b = VT::set1(-qr);
    for (long c = eigAlignDown<T>(from); c < ld; c += L) {
        VT::store(row + c, VT::fma(b, VT::load(v + c), VT::fma(a, VT::load(q + c), VT::load(row + c))));
    }
}

// row -= alpha * v over [from, ld)
template <typename T>
static inline void eigAxpyPadded(T* row, T alpha, const T* v, long from, long ld) {
    typedef Vec<T> VT;
    constexpr int L = VT::L;
    typename VT::V a = VT::set1(-alpha);
    for (long c = eigAlignDown<T>(from); c < ld; c += L) VT::store(row + c, VT::fma(a, VT::load(v + c), VT::load(row + c)));
}

template <typename T>
struct EigWork {
    long ld = 0;
    Scratch<T> a, qt, v, vn, p, pn, taus;
    std::vector<double> d, e;
    std::vector<int> idx;
    void reserve(int n) {
        ld = (n + Vec<T>::L - 1) / Vec<T>::L * Vec<T>::L;
        size_t sq = (size_t) n * ld;
        a.reserve(sq);
        qt.reserve(sq);
        v.reserve(ld);
        vn.reserve(ld);
        p.reserve(ld);
        pn.reserve(ld);
        taus.reserve(n);
        d.resize(n);
        e.resize(n);
        idx.resize(n);
    }
};

// The Householder reflection of step j, from x = A[j, j+1..n) (row j, equal to the column below the diagonal):
// H = I - tau v v^T with v[j+1] = 1, v zero outside (j+1..n), H x = beta e_1. Writes v (full padded length) and
// returns tau; beta goes to e[j].
template <typename T>
static T eigHouse(int n, long ld, long j, const T* row, T* v, double& beta) {
    std::memset(v, 0, sizeof(T) * (size_t) ld);
    double x0 = row[j + 1], tail = 0;
    for (long i = j + 2; i < n; i++) tail += (double) row[i] * row[i];
    if (tail == 0) {  // already tridiagonal in this column: H = I
        beta = x0;
        v[j + 1] = T(1);
        return T(0);
    }
    double norm = std::sqrt(x0 * x0 + tail);
    beta = x0 >= 0 ? -norm : norm;
    double scale = 1.0 / (x0 - beta);
    v[j + 1] = T(1);
    for (long i = j + 2; i < n; i++) v[i] = (T) (row[i] * scale);
    return (T) ((beta - x0) / beta);
}

// Reduces the full symmetric matrix in w.a (n rows, stride ld, zero padding) to tridiagonal form: d, e
// (e[i] = T[i+1][i], e[n-1] = 0); v_j is left in row j right of the diagonal and tau_j in w.taus.
// One pass over the trailing matrix per step: the rank-2 update A22 -= v q^T + q v^T of step j is fused with the
// product p = tau A22 v of step j+1 (row j+1 is updated first, which gives step j+1's reflection; every further
// row is then updated and immediately multiplied by the new v while it is in L1).
template <typename T>
static void eigTridiagonalise(int n, EigWork<T>& w) {
    const long ld = w.ld;
    T* A = w.a.p;
    T* v = w.v.p;
    T* vn = w.vn.p;
    T* p = w.p.p;
    T* pn = w.pn.p;
    T* taus = w.taus.p;
    if (n <= 2) {
        if (n == 2) {
            w.d[0] = A[0];
            w.e[0] = A[ld];
            w.d[1] = A[ld + 1];
        } else {
            w.d[0] = A[0];
        }
        w.e[n - 1] = 0;
        return;
    }
    // step 0's reflection and p = tau A22 v
    double beta;
    T tau = eigHouse<T>(n, ld, 0, A, v, beta);
    w.d[0] = A[0];
    w.e[0] = beta;
    std::memset(p, 0, sizeof(T) * (size_t) ld);
    if (tau != T(0)) {
        for (long r = 1; r < n; r++) p[r] = tau * eigDotPadded(A + r * ld, v, 1, ld);
    }
    for (long j = 0; j + 2 < n; j++) {
        taus[j] = tau;
        bool next = j + 3 < n;  // is there a reflection for step j + 1?
        T tauN = T(0);
        if (tau != T(0)) {
            // q = p - K v, K = tau / 2 (p . v)   (p and v are zero outside j+1..n)
            double pv = 0;
            for (long r = j + 1; r < n; r++) pv += (double) p[r] * v[r];
            T K = (T) (0.5 * (double) tau * pv);
            for (long r = j + 1; r < n; r++) p[r] -= K * v[r];
            eigRank2Padded(A + (j + 1) * ld, v[j + 1], p, p[j + 1], v, j + 1, ld);
        }
        if (next) {
            tauN = eigHouse<T>(n, ld, j + 1, A + (j + 1) * ld, vn, beta);
            w.d[j + 1] = A[(j + 1) * ld + j + 1];
            w.e[j + 1] = beta;
            std::memset(pn, 0, sizeof(T) * (size_t) ld);
        }
        for (long r = j + 2; r < n; r++) {
            T* ar = A + r * ld;
            if (tau != T(0)) eigRank2Padded(ar, v[r], p, p[r], v, j + 1, ld);
            if (next && tauN != T(0)) pn[r] = tauN * eigDotPadded(ar, vn, j + 2, ld);
        }
        // keep v_j in row j right of the diagonal (row j is final)
        for (long i = j + 1; i < n; i++) A[j * ld + i] = v[i];
        std::swap(v, vn);
        std::swap(p, pn);
        tau = tauN;
    }
    w.d[n - 2] = A[(n - 2) * ld + n - 2];
    w.e[n - 2] = A[(n - 1) * ld + n - 2];
    w.d[n - 1] = A[(n - 1) * ld + n - 1];
    w.e[n - 1] = 0;
}

// Qt = Q^T = H_{n-3} ... H_0 (each H_j = I - tau_j v_j v_j^T acting on indices j+1..n-1), rows of stride ld.
template <typename T>
static void eigFormQt(int n, EigWork<T>& w) {
    const long ld = w.ld;
    T* Q = w.qt.p;
    T* v = w.v.p;
    std::memset(Q, 0, sizeof(T) * (size_t) n * ld);
    for (long i = 0; i < n; i++) Q[i * ld + i] = T(1);
    for (long j = n - 3; j >= 0; j--) {
        T tau = w.taus.p[j];
        if (tau == T(0)) continue;
        std::memset(v, 0, sizeof(T) * (size_t) ld);
        for (long i = j + 1; i < n; i++) v[i] = w.a.p[j * ld + i];
        // Qt[r, j+1..] -= tau (Qt[r, j+1..] . v) v^T for rows r >= j+1 (other rows are zero there)
        for (long r = j + 1; r < n; r++) {
            T* qr = Q + r * ld;
            T dot = eigDotPadded(qr, v, j + 1, ld);
            if (dot != T(0)) eigAxpyPadded(qr, tau * dot, v, j + 1, ld);
        }
    }
}

// sqrt(a^2 + b^2) without overflow for f64 data (f32 data cannot overflow it in double)
template <typename T>
static inline double eigHypot(double a, double b) {
    if (sizeof(T) == sizeof(float)) return std::sqrt(a * a + b * b);
    a = std::fabs(a);
    b = std::fabs(b);
    if (a < b) std::swap(a, b);
    if (a == 0) return 0;
    double t = b / a;
    return a * std::sqrt(1 + t * t);
}

// Implicit QL on (d, e); rotations applied to the rows (stride ld, padded) of qt when it is not null. Returns false
// if an eigenvalue needed more than 60 iterations.
template <typename T>
static bool eigQL(int n, long ld, double* d, double* e, T* qt) {
    typedef Vec<T> VT;
    constexpr int L = VT::L;
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
                double r = eigHypot<T>(g, 1.0);
                g = d[m] - d[l] + e[l] / (g + (g >= 0 ? std::fabs(r) : -std::fabs(r)));
                double s = 1, c = 1, p = 0;
                int i;
                for (i = m - 1; i >= l; i--) {
                    double f = s * e[i], b = c * e[i];
                    e[i + 1] = (r = eigHypot<T>(f, g));
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
                        // rows i, i+1 of Qt: (zi, zj) <- (c zi - s zj, s zi + c zj)
                        T* zi = qt + (long) i * ld;
                        T* zj = zi + ld;
                        typename VT::V cs = VT::set1((T) c), sn = VT::set1((T) s), nsn = VT::set1((T) -s);
                        for (long k = 0; k < ld; k += L) {
                            typename VT::V xi = VT::load(zi + k), xj = VT::load(zj + k);
                            VT::store(zj + k, VT::fma(sn, xi, VT::mul(cs, xj)));
                            VT::store(zi + k, VT::fma(nsn, xj, VT::mul(cs, xi)));
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
    const long ld = w.ld;
    T* A = w.a.p;
    for (long i = 0; i < n; i++) {
        for (long j = 0; j <= i; j++) {
            T x = a[i * n + j];
            A[i * ld + j] = x;
            A[j * ld + i] = x;
        }
        for (long j = n; j < ld; j++) A[i * ld + j] = T(0);
    }
    eigTridiagonalise(n, w);
    T* qt = nullptr;
    if (vOut != nullptr) {
        eigFormQt(n, w);
        qt = w.qt.p;
    }
    if (!eigQL<T>(n, ld, w.d.data(), w.e.data(), qt)) return false;
    std::iota(w.idx.begin(), w.idx.begin() + n, 0);
    const double* d = w.d.data();
    std::stable_sort(w.idx.begin(), w.idx.begin() + n, [d](int x, int y) { return d[x] < d[y]; });
    for (int j = 0; j < k; j++) {
        int src = w.idx[j];
        wOut[j] = (T) d[src];
        if (vOut != nullptr) {
            const T* z = qt + (long) src * ld;
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
