// pointwise.h - activation functions with derivatives of order 0..6, and sums over an axis. Part of isa_body.h.
//
// activation: y = sigma^(order)(x), evaluated in double exactly as Activation.eval does (same closed forms for
// orders 0 and 1, same polynomial tables and Horner order above), then rounded to T. ReLU and identity, the
// maps on every training step's hot path, have branch-free loops the compiler vectorises; the transcendental
// ones call libm per element (a vectorised float tanh/sigmoid is follow-up work, see NativeBackend).
// allFinite: whether x[0, n) holds no NaN or infinity (the optimizers' check of every gradient): x * 0 + s stays a
// zero for finite x and turns NaN otherwise, in four vector accumulators; one test at the end, no branch per element.
// axpy: y += alpha * x (the SGD update), product and sum rounded separately as in Java (defined below, inside the
// no-contraction region).
// sumAxis: x viewed as [outer, len, inner]; with inner == 1 a row is summed with one vector of independent
// partial sums (reassociated, within the suite's k * eps tolerance); otherwise whole rows are added at once.

// Activation.ordinal() in Java; NativeBackendTest asserts the mapping.
enum ActivationCode { ACT_RELU = 0, ACT_TANH = 1, ACT_SIGMOID = 2, ACT_SOFTPLUS = 3, ACT_RBF = 4, ACT_IDENTITY = 5 };

// No FMA contraction in the activation formulas: with it, the order-6 polynomials (coefficients up to 1680,
// heavy cancellation) differ from Java's Activation.eval by ~1e-12 relative; without it they agree bit for bit.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

static inline double actHorner(const std::vector<double>& p, double x) {
    double r = 0;
    for (size_t i = p.size(); i-- > 0;) r = r * x + p[i];
    return r;
}

static inline double actSigmoid(double x) {
    if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
    double e = std::exp(x);
    return e / (1.0 + e);
}

static inline double actEval(const ActivationTables& t, int f, int order, double beta, double x) {
    switch (f) {
        case ACT_RELU:
            return order == 0 ? std::max(0.0, x) : order == 1 ? (x > 0 ? 1.0 : 0.0) : 0.0;
        case ACT_TANH: {
            double th = std::tanh(x);
            return order == 0 ? th : order == 1 ? 1 - th * th : actHorner(t.tanhP[order], th);
        }
        case ACT_SIGMOID: {
            double s = actSigmoid(x);
            return order == 0 ? s : order == 1 ? s * (1 - s) : actHorner(t.sigmoidP[order], s);
        }
        case ACT_SOFTPLUS: {
            double bx = beta * x;
            if (order == 0) return (bx > 30 ? bx : std::log1p(std::exp(bx))) / beta;
            double s = actSigmoid(bx);
            return order == 1 ? s : std::pow(beta, order - 1) * actHorner(t.sigmoidP[order - 1], s);
        }
        case ACT_RBF:
            return actHorner(t.rbfP[order], x) * std::exp(-0.5 * x * x);
        default:  // ACT_IDENTITY
            return order == 0 ? x : order == 1 ? 1.0 : 0.0;
    }
}

template <typename T>
static void activation(int f, int order, T beta, const T* x, T* y, int n) {
    if (f == ACT_RELU && order <= 1) {
        if (order == 0) {
            // as Java's Math.max(0, x): NaN stays NaN, -0 becomes +0
            for (int i = 0; i < n; i++) y[i] = !(x[i] <= T(0)) ? x[i] : T(0);
        } else {
            for (int i = 0; i < n; i++) y[i] = x[i] > T(0) ? T(1) : T(0);
        }
        return;
    }
    if (f == ACT_IDENTITY || (f == ACT_RELU && order >= 2)) {
        if (f == ACT_IDENTITY && order == 0) {
            if (x != y) std::memmove(y, x, sizeof(T) * (size_t) n);
        } else {
            T v = f == ACT_IDENTITY && order == 1 ? T(1) : T(0);
            for (int i = 0; i < n; i++) y[i] = v;
        }
        return;
    }
    const ActivationTables& t = ActivationTables::get();
    double b = (double) beta;
    for (int i = 0; i < n; i++) y[i] = (T) actEval(t, f, order, b, (double) x[i]);
}

// axpy: y += alpha * x with the product rounded before the sum (this region has no FMA contraction), the bits of
// the Java reference. A plain loop: g++ -O3 vectorises it for the region's ISA, with a runtime check for x == y.
template <typename T>
static void axpy(long n, T alpha, const T* x, T* y) {
    for (long i = 0; i < n; i++) {
        T p = alpha * x[i];
        y[i] = y[i] + p;
    }
}

#pragma GCC pop_options

template <typename T>
static bool allFinite(const T* x, long n) {
    typedef Vec<T> VT;
    typedef typename VT::V V;
    constexpr int L = VT::L;
    V z = VT::zero(), s0 = z, s1 = z, s2 = z, s3 = z;
    long i = 0;
    for (; i + 4 * L <= n; i += 4 * L) {
        s0 = VT::fma(VT::load(x + i), z, s0);
        s1 = VT::fma(VT::load(x + i + L), z, s1);
        s2 = VT::fma(VT::load(x + i + 2 * L), z, s2);
        s3 = VT::fma(VT::load(x + i + 3 * L), z, s3);
    }
    for (; i + L <= n; i += L) s0 = VT::fma(VT::load(x + i), z, s0);
    T s = VT::sum(VT::add(VT::add(s0, s1), VT::add(s2, s3)));
    for (; i < n; i++) s += x[i] * T(0);
    return s == s;
}

template <typename T>
static void sumAxis(const T* x, int outer, int len, int inner, T* out) {
    typedef Vec<T> VT;
    constexpr int L = VT::L;
    for (long o = 0; o < outer; o++) {
        const T* base = x + o * (long) len * inner;
        T* ob = out + o * (long) inner;
        if (inner == 1) {
            typename VT::V s0 = VT::zero(), s1 = VT::zero(), s2 = VT::zero(), s3 = VT::zero();
            long l = 0;
            for (; l + 4 * L <= len; l += 4 * L) {
                s0 = VT::add(s0, VT::load(base + l));
                s1 = VT::add(s1, VT::load(base + l + L));
                s2 = VT::add(s2, VT::load(base + l + 2 * L));
                s3 = VT::add(s3, VT::load(base + l + 3 * L));
            }
            for (; l + L <= len; l += L) s0 = VT::add(s0, VT::load(base + l));
            T s = VT::sum(VT::add(VT::add(s0, s1), VT::add(s2, s3)));
            for (; l < len; l++) s += base[l];
            ob[0] = s;
        } else {
            for (int i = 0; i < inner; i++) ob[i] = T(0);
            for (long l = 0; l < len; l++) {
                const T* row = base + l * inner;
                for (int i = 0; i < inner; i++) ob[i] += row[i];
            }
        }
    }
}
