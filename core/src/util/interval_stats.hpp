// Confidence intervals for the figures the host judges and the benchmarks compare: a binomial
// proportion (Wilson score), the mean of a sample and the difference of two means (Student's t,
// Welch's t), with the quantiles they need. No third-party library: the normal quantile is a
// rational first guess refined on std::erfc, the t quantile Newton's method on the t distribution
// function (the regularized incomplete beta, by its continued fraction), bracketed so it cannot
// run off. Pure functions and a value type: any thread, no allocation.
//
// Why intervals and not point figures: a ratio of two noisy means measured 1.51x, 0.86x and 0.44x
// on one unchanged program in consecutive windows. A gate that compares such a figure with a
// limit is a coin toss near the limit; one that asks where the interval lies says "pass", "fail"
// or "not yet known", and the last is the honest answer while the data are few (interval_gate.hpp).
#pragma once

#include <cstdint>
#include <optional>

namespace fizzhost::stats {

/// A point estimate and a two-sided interval around it (lower <= estimate <= upper).
struct Interval {
    double estimate = 0, lower = 0, upper = 0;
};

/// The standard normal distribution function P(Z <= x).
double normalCdf(double x);

/// The x with P(Z <= x) = p, for p in (0, 1): a rational first guess (Abramowitz & Stegun
/// 26.2.23) refined by Halley steps on std::erfc, accurate to ~1e-15 relative. NaN outside (0, 1).
double normalQuantile(double p);

/// The regularized incomplete beta function I_x(a, b), a, b > 0, x in [0, 1], by its continued
/// fraction (modified Lentz), ~1e-14. NaN for arguments outside those ranges.
double incompleteBeta(double a, double b, double x);

/// Student's t distribution function P(T <= t) with `df` > 0 degrees of freedom; df may be
/// fractional (Welch) or infinite (the normal). NaN for df <= 0.
double studentTCdf(double t, double df);

/// The t with P(T <= t) = p, p in (0, 1), df > 0 (fractional or infinite). A Cornish-Fisher first
/// guess, then Newton's method on studentTCdf inside a bracket (bisection when a step leaves it),
/// to ~1e-12 relative. NaN for p outside (0, 1) or df <= 0.
double studentTQuantile(double p, double df);

/// The quantile a two-sided interval at `confidence` (in (0, 1)) reaches to: 1 - (1 - confidence) / 2.
double twoSided(double confidence);

/// The Wilson score interval for a binomial proportion: `successes` out of `trials`, two-sided at
/// `confidence`. Unlike the normal ("Wald") interval it stays inside [0, 1] and is not empty at 0
/// or `trials` successes: 0 of 100 at 95% is [0, 0.037]. estimate = successes / trials.
/// Nullopt for trials = 0 or successes > trials.
std::optional<Interval> wilsonInterval(uint64_t successes, uint64_t trials, double confidence);

/// A running summary of a sample (Welford's update): count, mean and the sum of squared
/// deviations, so a sample of any length costs three numbers and nothing is kept per value.
class Summary {
public:
    void add(double x) {
        ++n_;
        const double d = x - mean_;
        mean_ += d / double(n_);
        m2_ += d * (x - mean_);
    }
    uint64_t count() const { return n_; }
    double mean() const { return mean_; }
    /// The sample variance (n - 1 in the denominator); 0 below two values.
    double variance() const { return n_ > 1 ? m2_ / double(n_ - 1) : 0.0; }
    bool operator==(const Summary&) const = default;

private:
    uint64_t n_ = 0;
    double mean_ = 0, m2_ = 0;
};

/// Student's t interval for the mean of `sample`, two-sided at `confidence`. Nullopt below two values.
std::optional<Interval> meanInterval(const Summary& sample, double confidence);

/// Welch's interval for mean(b) - mean(a), two-sided at `confidence`: unequal variances and sizes
/// allowed, the degrees of freedom by Welch-Satterthwaite (`df`, fractional). Nullopt unless each
/// sample holds two values. Two samples without spread give the point difference (df = na + nb - 2).
struct WelchInterval {
    Interval difference;
    double df = 0;
};
std::optional<WelchInterval> welchInterval(const Summary& a, const Summary& b, double confidence);

/// exp() of each bound: an interval of a difference of logs becomes one of a ratio.
Interval exponentiated(const Interval& logInterval);

/// The confidence each of `looks` looks at growing data must have for the chance that any one of
/// them is wrong to stay within 1 - `confidence` (Bonferroni: the error shared equally). A gate
/// judged five times a second needs it, or a window of a minute takes 300 chances at a false
/// alarm. looks = 0 counts as 1.
double perLookConfidence(double confidence, uint64_t looks);

}  // namespace fizzhost::stats
