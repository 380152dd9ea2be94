#include "util/interval_stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace fizzhost::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Beyond this many degrees of freedom t and the normal agree to far better than any figure here.
constexpr double kNormalDf = 1e9;
constexpr int kMaxFractionTerms = 10000;
constexpr int kMaxNewtonSteps = 200;

bool validConfidence(double c) { return c > 0 && c < 1; }

// log Gamma for positive arguments. lgamma_r, not lgamma: the latter writes the global signgam,
// a data race when two threads judge at once.
double logGamma(double x) {
    int sign = 0;
    return ::lgamma_r(x, &sign);
}

// The continued fraction of I_x(a, b) (Numerical Recipes' betacf, modified Lentz), converging
// fast for x < (a + 1) / (a + b + 2).
double betaFraction(double a, double b, double x) {
    constexpr double kTiny = 1e-300, kEps = 1e-15;
    const double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (std::fabs(d) < kTiny) d = kTiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= kMaxFractionTerms; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (std::fabs(d) < kTiny) d = kTiny;
        c = 1 + aa / c;
        if (std::fabs(c) < kTiny) c = kTiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (std::fabs(d) < kTiny) d = kTiny;
        c = 1 + aa / c;
        if (std::fabs(c) < kTiny) c = kTiny;
        d = 1 / d;
        const double step = d * c;
        h *= step;
        if (std::fabs(step - 1) < kEps) break;
    }
    return h;
}

// P(T > t) for t >= 0, computed on the tail itself so a small tail keeps its digits.
double upperTail(double t, double df) { return 0.5 * incompleteBeta(df / 2, 0.5, df / (df + t * t)); }

double studentTDensity(double t, double df) {
    return std::exp(logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * std::log(df * std::numbers::pi) -
                    (df + 1) / 2 * std::log1p(t * t / df));
}

// Cornish-Fisher expansion of the t quantile around the normal one (Abramowitz & Stegun 26.7.5):
// good for moderate df, rough for df near 1, where the bracketed Newton steps take over.
double cornishFisher(double z, double df) {
    const double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2, z9 = z7 * z2;
    const double g1 = (z3 + z) / 4;
    const double g2 = (5 * z5 + 16 * z3 + 3 * z) / 96;
    const double g3 = (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / 384;
    const double g4 = (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / 92160;
    return z + g1 / df + g2 / (df * df) + g3 / (df * df * df) + g4 / (df * df * df * df);
}

}  // namespace

double normalCdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

double normalQuantile(double p) {
    if (!(p > 0 && p < 1)) return kNaN;
    const double q = std::min(p, 1 - p);
    const double t = std::sqrt(-2 * std::log(q));
    double x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
    if (p < 0.5) x = -x;
    // Halley's method on Phi(x) - p; the error is taken on the side of the smaller tail.
    for (int i = 0; i < 3; ++i) {
        const double e = x < 0 ? normalCdf(x) - p : (1 - p) - 0.5 * std::erfc(x / std::numbers::sqrt2);
        const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
        x -= u / (1 + x * u / 2);
    }
    return x;
}

double incompleteBeta(double a, double b, double x) {
    if (!(a > 0 && b > 0 && x >= 0 && x <= 1)) return kNaN;
    if (x == 0) return 0;
    if (x == 1) return 1;
    const double front =
        std::exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * betaFraction(a, b, x) / a;
    return 1 - front * betaFraction(b, a, 1 - x) / b;
}

double studentTCdf(double t, double df) {
    if (!(df > 0) || std::isnan(t)) return kNaN;
    if (df > kNormalDf) return normalCdf(t);
    const double tail = upperTail(std::fabs(t), df);
    return t >= 0 ? 1 - tail : tail;
}

double studentTQuantile(double p, double df) {
    if (!(p > 0 && p < 1) || !(df > 0)) return kNaN;
    if (df > kNormalDf) return normalQuantile(p);
    if (p == 0.5) return 0;
    if (p < 0.5) return -studentTQuantile(1 - p, df);
    const double target = 1 - p;  // the upper tail to reach
    double t = std::max(cornishFisher(normalQuantile(p), df), 0.0);
    // A bracket [lo, hi] with upperTail(lo) > target > upperTail(hi).
    double lo = 0, hi = std::max(t, 1.0);
    while (upperTail(hi, df) > target) {
        lo = hi;
        hi *= 2;
        if (!std::isfinite(hi)) return kNaN;
    }
    if (t <= lo || t >= hi) t = (lo + hi) / 2;
    for (int i = 0; i < kMaxNewtonSteps; ++i) {
        const double f = upperTail(t, df) - target;
        if (f == 0) return t;
        (f > 0 ? lo : hi) = t;
        double next = t + f / studentTDensity(t, df);  // the tail falls with slope -density
        if (!(next > lo && next < hi)) next = (lo + hi) / 2;
        if (std::fabs(next - t) <= 1e-13 * std::max(1.0, std::fabs(t))) return next;
        t = next;
    }
    return t;
}

double twoSided(double confidence) { return 1 - (1 - confidence) / 2; }

std::optional<Interval> wilsonInterval(uint64_t successes, uint64_t trials, double confidence) {
    if (trials == 0 || successes > trials || !validConfidence(confidence)) return std::nullopt;
    const double n = double(trials), p = double(successes) / n;
    const double z = normalQuantile(twoSided(confidence)), z2 = z * z;
    const double denominator = 1 + z2 / n;
    const double centre = (p + z2 / (2 * n)) / denominator;
    const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator;
    // At 0 (or every) success the bound is exactly 0 (1); rounding must not move it off.
    const double lower = successes == 0 ? 0.0 : std::clamp(centre - half, 0.0, p);
    const double upper = successes == trials ? 1.0 : std::clamp(centre + half, p, 1.0);
    return Interval{p, lower, upper};
}

std::optional<Interval> meanInterval(const Summary& sample, double confidence) {
    if (sample.count() < 2 || !validConfidence(confidence)) return std::nullopt;
    const double n = double(sample.count());
    const double half = studentTQuantile(twoSided(confidence), n - 1) * std::sqrt(sample.variance() / n);
    return Interval{sample.mean(), sample.mean() - half, sample.mean() + half};
}

std::optional<WelchInterval> welchInterval(const Summary& a, const Summary& b, double confidence) {
    if (a.count() < 2 || b.count() < 2 || !validConfidence(confidence)) return std::nullopt;
    const double na = double(a.count()), nb = double(b.count());
    const double va = a.variance() / na, vb = b.variance() / nb;
    const double difference = b.mean() - a.mean();
    if (va + vb == 0) return WelchInterval{{difference, difference, difference}, na + nb - 2};
    const double df = (va + vb) * (va + vb) / (va * va / (na - 1) + vb * vb / (nb - 1));
    const double half = studentTQuantile(twoSided(confidence), df) * std::sqrt(va + vb);
    return WelchInterval{{difference, difference - half, difference + half}, df};
}

Interval exponentiated(const Interval& i) { return {std::exp(i.estimate), std::exp(i.lower), std::exp(i.upper)}; }

double perLookConfidence(double confidence, uint64_t looks) {
    return 1 - (1 - confidence) / double(std::max<uint64_t>(looks, 1));
}

}  // namespace fizzhost::stats
