// The interval statistics the gates and the benchmark comparisons stand on, against published
// tables (Student's t, Newcombe's Wilson examples), closed forms, an independent numerical
// integration, and coverage measured by simulation; then the gate verdicts and the live cost
// estimator on simulated dispatcher counters with a noisy machine behind them.
#include "util/cost_batches.hpp"
#include "util/interval_gate.hpp"
#include "util/interval_stats.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>
#include <random>

using namespace fizzhost::stats;

namespace {

// The t density from std::lgamma and its distribution function by Simpson's rule from 0: an
// evaluation that shares nothing with the incomplete beta the code uses.
double tDensity(double t, double df) {
    return std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2) - 0.5 * std::log(df * std::numbers::pi) -
                    (df + 1) / 2 * std::log1p(t * t / df));
}
double tCdfBySimpson(double t, double df) {
    const int n = 20000;  // even
    const double h = t / n;
    double sum = tDensity(0, df) + tDensity(t, df);
    for (int i = 1; i < n; ++i) sum += (i % 2 ? 4 : 2) * tDensity(i * h, df);
    return 0.5 + sum * h / 3;
}

Summary summaryOf(std::initializer_list<double> values) {
    Summary s;
    for (double v : values) s.add(v);
    return s;
}

}  // namespace

TEST_CASE("normal quantiles: tabulated values and the round trip through erfc", "[unit]") {
    CHECK(normalQuantile(0.975) == Approx(1.959963984540054).epsilon(1e-12));
    CHECK(normalQuantile(0.995) == Approx(2.5758293035489).epsilon(1e-12));
    CHECK(normalQuantile(0.95) == Approx(1.6448536269514722).epsilon(1e-12));
    CHECK(normalQuantile(0.025) == Approx(-1.959963984540054).epsilon(1e-12));
    CHECK(normalQuantile(1e-10) == Approx(-6.361340902404056).epsilon(1e-10));
    CHECK(normalQuantile(0.5) == Approx(0.0).margin(1e-15));
    for (double p : {1e-12, 1e-6, 0.001, 0.2, 0.5, 0.7, 0.999, 1 - 1e-9})
        CHECK(normalCdf(normalQuantile(p)) == Approx(p).epsilon(1e-10));
    CHECK(std::isnan(normalQuantile(0)));
    CHECK(std::isnan(normalQuantile(1)));
}

TEST_CASE("Student's t quantiles: the published table, closed forms, fractional df", "[unit]") {
    // Two-sided 95% and 99% critical values (any statistics text's t table).
    struct Row {
        double df, t975, t995;
    };
    for (const Row r : {Row{1, 12.7062, 63.6567}, Row{2, 4.3027, 9.9248}, Row{3, 3.1824, 5.8409}, Row{5, 2.5706, 4.0321},
                        Row{10, 2.2281, 3.1693}, Row{30, 2.0423, 2.7500}, Row{120, 1.9799, 2.6174}}) {
        INFO("df " << r.df);
        CHECK(studentTQuantile(0.975, r.df) == Approx(r.t975).margin(5e-5));
        CHECK(studentTQuantile(0.995, r.df) == Approx(r.t995).margin(5e-5));
        CHECK(studentTQuantile(0.025, r.df) == Approx(-r.t975).margin(5e-5));
    }
    CHECK(studentTQuantile(0.95, 1) == Approx(6.3138).margin(5e-5));
    CHECK(studentTQuantile(0.95, 3) == Approx(2.3534).margin(5e-5));
    CHECK(studentTQuantile(0.975, INFINITY) == Approx(1.959963984540054).epsilon(1e-12));
    CHECK(studentTQuantile(0.975, 1e12) == Approx(1.959963984540054).epsilon(1e-9));
    CHECK(studentTCdf(2.5706, 5) == Approx(0.975).margin(1e-5));

    // Closed forms: df 1 is Cauchy, df 2 has an algebraic inverse.
    for (double p : {0.6, 0.9, 0.99, 0.999, 0.99999, 1 - 1e-8}) {
        INFO("p " << p);
        // tan(pi (p - 1/2)), written as 1 / tan(pi (1 - p)) so the reference keeps its digits near 1.
        CHECK(studentTQuantile(p, 1) == Approx(1 / std::tan(std::numbers::pi * (1 - p))).epsilon(1e-9));
        CHECK(studentTQuantile(p, 2) == Approx((2 * p - 1) / std::sqrt(2 * p * (1 - p))).epsilon(1e-9));
    }
    // Fractional df (Welch's): the quantile's distribution function, integrated independently,
    // gives p back, and the quantile falls between its integer neighbours'.
    for (double df : {1.3, 2.5, 7.77, 41.2}) {
        for (double p : {0.9, 0.975, 0.995}) {
            INFO("df " << df << " p " << p);
            const double t = studentTQuantile(p, df);
            CHECK(tCdfBySimpson(t, df) == Approx(p).margin(1e-7));
            CHECK(t < studentTQuantile(p, std::floor(df)));
            CHECK(t > studentTQuantile(p, std::ceil(df)));
        }
    }
    CHECK(std::isnan(studentTQuantile(0.9, 0)));
    CHECK(std::isnan(studentTQuantile(1.0, 5)));
}

TEST_CASE("the regularized incomplete beta against its closed forms", "[unit]") {
    for (double x : {0.0, 0.01, 0.3, 0.5, 0.77, 0.999, 1.0}) {
        INFO("x " << x);
        CHECK(incompleteBeta(1, 1, x) == Approx(x).margin(1e-14));
        CHECK(incompleteBeta(3.5, 1, x) == Approx(std::pow(x, 3.5)).margin(1e-13));
        CHECK(incompleteBeta(1, 4.2, x) == Approx(1 - std::pow(1 - x, 4.2)).margin(1e-13));
    }
    CHECK(incompleteBeta(7.3, 7.3, 0.5) == Approx(0.5).margin(1e-13));
    CHECK(incompleteBeta(2, 3, 0.4) + incompleteBeta(3, 2, 0.6) == Approx(1.0).margin(1e-13));
    CHECK(std::isnan(incompleteBeta(0, 1, 0.5)));
    CHECK(std::isnan(incompleteBeta(1, 1, 1.5)));
}

TEST_CASE("Wilson score intervals: Newcombe's published examples and the edges", "[unit]") {
    // Newcombe (1998), "Two-sided confidence intervals for the single proportion", method 3, 95%.
    struct Row {
        uint64_t k, n;
        double lower, upper;
    };
    for (const Row r : {Row{81, 263, 0.2553, 0.3662}, Row{15, 148, 0.0624, 0.1605}, Row{0, 20, 0.0, 0.1611},
                        Row{1, 29, 0.0061, 0.1718}}) {
        INFO(r.k << " of " << r.n);
        auto w = wilsonInterval(r.k, r.n, 0.95);
        REQUIRE(w);
        CHECK(w->estimate == Approx(double(r.k) / double(r.n)));
        CHECK(w->lower == Approx(r.lower).margin(5e-5));
        CHECK(w->upper == Approx(r.upper).margin(5e-5));
    }
    // 0 of 100: [0, 0.037] at 95%; at 99% the upper bound is z^2 / (n + z^2).
    auto none = wilsonInterval(0, 100, 0.95);
    REQUIRE(none);
    CHECK(none->lower == 0.0);
    CHECK(none->upper == Approx(0.0370).margin(5e-5));
    const double z = 2.5758293035489;
    CHECK(wilsonInterval(0, 100, 0.99)->upper == Approx(z * z / (100 + z * z)).epsilon(1e-12));
    CHECK(wilsonInterval(100, 100, 0.99)->upper == 1.0);
    CHECK(wilsonInterval(100, 100, 0.99)->lower == Approx(100 / (100 + z * z)).epsilon(1e-12));
    CHECK_FALSE(wilsonInterval(0, 0, 0.99));
    CHECK_FALSE(wilsonInterval(5, 4, 0.99));
    CHECK_FALSE(wilsonInterval(1, 4, 1.0));
}

TEST_CASE("t and Welch intervals: the table's half-widths and coverage measured by simulation", "[unit]") {
    // Equal sizes and spreads: Welch's df is 2(n - 1) exactly, the half-width t(0.975, 10) * se.
    const Summary a = summaryOf({1, 2, 3, 4, 5, 6}), b = summaryOf({2, 3, 4, 5, 6, 7});
    auto w = welchInterval(a, b, 0.95);
    REQUIRE(w);
    CHECK(w->df == Approx(10.0));
    CHECK(w->difference.estimate == Approx(1.0));
    CHECK(w->difference.upper - w->difference.estimate == Approx(2.2281 * std::sqrt(2 * 3.5 / 6)).epsilon(1e-4));
    auto m = meanInterval(a, 0.99);
    REQUIRE(m);
    CHECK(m->upper - m->estimate == Approx(4.0321 * std::sqrt(3.5 / 6)).epsilon(1e-4));
    CHECK_FALSE(meanInterval(summaryOf({1.0}), 0.99));
    CHECK_FALSE(welchInterval(summaryOf({1.0}), b, 0.99));
    // No spread at all: the point difference.
    auto flat = welchInterval(summaryOf({2, 2, 2}), summaryOf({3, 3}), 0.99);
    REQUIRE(flat);
    CHECK(flat->difference.lower == Approx(1.0));
    CHECK(flat->difference.upper == Approx(1.0));

    // Coverage: 95% intervals must contain the true difference about 95% of the time, here with
    // very unequal sizes and spreads (where a pooled-variance interval covers far less).
    std::mt19937_64 rng(20260501);
    std::normal_distribution<double> narrow(10.0, 1.0), wide(11.0, 4.0);
    int covered = 0, meanCovered = 0;
    const int reps = 20000;
    for (int r = 0; r < reps; ++r) {
        Summary x, y;
        for (int i = 0; i < 30; ++i) x.add(narrow(rng));
        for (int i = 0; i < 5; ++i) y.add(wide(rng));
        auto iv = welchInterval(x, y, 0.95);
        covered += iv->difference.lower <= 1.0 && 1.0 <= iv->difference.upper;
        auto mi = meanInterval(y, 0.95);
        meanCovered += mi->lower <= 11.0 && 11.0 <= mi->upper;
    }
    CHECK(double(covered) / reps == Approx(0.95).margin(0.01));
    CHECK(double(meanCovered) / reps == Approx(0.95).margin(0.01));
    CHECK(exponentiated({0.0, std::log(0.5), std::log(2.0)}).upper == Approx(2.0));
    CHECK(perLookConfidence(0.99, 300) == Approx(1 - 0.01 / 300));
    CHECK(perLookConfidence(0.99, 0) == Approx(0.99));
}

TEST_CASE("a gate on an interval passes inside the limit, fails past it and holds while it straddles", "[unit]") {
    auto pass = judgeInterval({1.03, 0.98, 1.08}, 1.2, LimitSide::AtMost);
    CHECK(pass.outcome == GateOutcome::Pass);
    CHECK(pass.reason == "1.03 [0.98, 1.08] <= 1.2");
    auto fail = judgeInterval({6.3, 5.9, 6.75}, 1.2, LimitSide::AtMost);
    CHECK(fail.outcome == GateOutcome::Fail);
    CHECK(fail.reason == "6.3 [5.9, 6.75] > 1.2");
    auto straddle = judgeInterval({1.15, 1.02, 1.29}, 1.2, LimitSide::AtMost);
    CHECK(straddle.outcome == GateOutcome::Undecided);
    CHECK(straddle.reason == "1.15 [1.02, 1.29] straddles 1.2");
    // A point past the limit is not yet a failure while the interval reaches below it.
    CHECK(judgeInterval({1.25, 1.1, 1.4}, 1.2, LimitSide::AtMost).outcome == GateOutcome::Undecided);
    CHECK(judgeInterval({1.2, 1.1, 1.2}, 1.2, LimitSide::AtMost).outcome == GateOutcome::Pass);
    CHECK(judgeInterval({900, 850, 950}, 800, LimitSide::AtLeast).outcome == GateOutcome::Pass);
    CHECK(judgeInterval({700, 650, 750}, 800, LimitSide::AtLeast).outcome == GateOutcome::Fail);
    CHECK(toString(GateOutcome::Undecided) == "undecided");
}

TEST_CASE("rate gates on Wilson intervals, a zero limit on the count", "[unit]") {
    // 3 of 1000 against 0.1%: the point (0.3%) is past it; at 95% so is the whole interval
    // [0.00102, 0.00878], at 99% [0.00076, 0.0118] still straddles it and the stage holds.
    CHECK(judgeRate(3, 1000, 0.001, 0.95)->judgement.outcome == GateOutcome::Fail);
    auto r = judgeRate(3, 1000, 0.001, 0.99);
    REQUIRE(r);
    CHECK(r->judgement.outcome == GateOutcome::Undecided);
    CHECK(r->interval.lower == Approx(0.000758).margin(1e-6));
    CHECK(judgeRate(30, 1000, 0.001, 0.99)->judgement.outcome == GateOutcome::Fail);
    CHECK(judgeRate(0, 100000, 0.001, 0.99)->judgement.outcome == GateOutcome::Pass);
    auto few = judgeRate(0, 500, 0.001, 0.99);
    CHECK(few->judgement.outcome == GateOutcome::Undecided);
    CHECK_THAT(few->judgement.reason, Catch::Contains("6629 samples with none bad would settle it"));
    // samplesToConfirm is the boundary: one sample fewer does not settle it.
    const uint64_t n = samplesToConfirm(0.001, 0.99);
    CHECK(n == 6629);
    CHECK(wilsonInterval(0, n, 0.99)->upper <= 0.001);
    CHECK(wilsonInterval(0, n - 1, 0.99)->upper > 0.001);
    // A limit of 0: the first bad sample fails, none passes.
    CHECK(judgeRate(0, 10, 0.0, 0.99)->judgement.outcome == GateOutcome::Pass);
    auto one = judgeRate(1, 1000000, 0.0, 0.99);
    CHECK(one->judgement.outcome == GateOutcome::Fail);
    CHECK(one->judgement.reason == "1 of 1000000 > 0 (a limit of 0 admits none)");
    CHECK_FALSE(judgeRate(0, 0, 0.1, 0.99));
}

TEST_CASE("cost batches: cumulative counters become batch means of at least the minimum runs", "[unit]") {
    CostBatches b(10);
    CHECK(b.observe(100, 1000));  // opens the window: nothing counted
    CHECK(b.batches() == 0);
    CHECK(b.observe(104, 1040));  // 4 runs: the batch stays open
    CHECK(b.batches() == 0);
    CHECK(b.openRuns() == 4);
    CHECK(b.observe(112, 1200));  // 12 runs, 200 ns: closes at 16.67 ns/run
    CHECK(b.batches() == 1);
    CHECK(b.closedRuns() == 12);
    CHECK(b.logBatchMeans().mean() == Approx(std::log(200.0 / 12)));
    CHECK(b.observe(112, 1200));  // an idle tick changes nothing
    CHECK_FALSE(b.observe(5, 50));  // a new dispatcher counts from zero: refused, nothing changed
    CHECK(b.batches() == 1);
    CHECK_FALSE(slowdownInterval(b.logBatchMeans(), b.logBatchMeans(), 0.99));  // two batches each needed
    CHECK(b.observe(130, 1200));  // runs whose clock reads summed to 0 ns count as 1 ns
    CHECK(b.batches() == 2);
    CHECK(std::isfinite(b.logBatchMeans().mean()));
    auto same = slowdownInterval(b.logBatchMeans(), b.logBatchMeans(), 0.99);
    REQUIRE(same);
    CHECK(same->ratio.estimate == Approx(1.0));
    CHECK(same->baselineBatches == 2);
}

namespace {

// A machine like the shared development VM, as the dispatcher sees it: per tick, each variant's
// timed runs (Poisson), each run's cost the program's own times a machine factor that wanders
// slowly over the window (another tenant's build: the same for both variants at any moment),
// lognormal jitter per run, and rare interrupts that land inside a timed run and cost it
// microseconds (a few hundred interrupts a second meet a 30 ns run about once in 10^4 runs; the
// model takes twice that).
struct NoisyMachine {
    std::mt19937_64 rng;
    double logFactor = 0;
    explicit NoisyMachine(uint64_t seed) : rng(seed) {}

    void nextTick() {
        // AR(1) on the log of the machine factor: excursions of +-16% (one sd) lasting seconds.
        std::normal_distribution<double> step(0.0, 0.05);
        logFactor = 0.95 * logFactor + step(rng);
    }
    // `runs` timed runs of a program costing `ns` each on a quiet machine: their summed ns.
    uint64_t timed(uint64_t runs, double ns) {
        std::lognormal_distribution<double> jitter(0.0, 0.3);
        std::bernoulli_distribution interrupted(2e-4);
        std::uniform_real_distribution<double> interrupt(2000.0, 20000.0);
        double sum = 0;
        for (uint64_t i = 0; i < runs; ++i) {
            sum += ns * std::exp(logFactor) * jitter(rng);
            if (interrupted(rng)) sum += interrupt(rng);
        }
        return uint64_t(sum);
    }
};

struct WindowResult {
    bool failedAtSomeLook = false;  // the mid-window rollback check at any tick
    GateOutcome atEnd = GateOutcome::Undecided;
    // The gate before intervals, on the same counters: the point figure (ns / runs of the window,
    // candidate over baseline) past the limit at any tick once both had min_samples (100) runs.
    bool pointFailedAtSomeLook = false;
};

// One 60 s window at 5 ticks a second, judged on max_slowdown = limit as P2 will: every tick a
// rollback check at the per-look confidence, at the end the verdict at the plain confidence.
WindowResult runWindow(NoisyMachine& m, double candidateNs, double limit, double baseRunsPerTick,
                       double candidateRunsPerTick) {
    constexpr int kTicks = 300;
    constexpr double kConfidence = 0.99;
    CostBatches base, cand;
    uint64_t br = 0, bns = 0, cr = 0, cns = 0;
    base.observe(br, bns);
    cand.observe(cr, cns);
    std::poisson_distribution<uint64_t> baseRuns(baseRunsPerTick), candRuns(candidateRunsPerTick);
    WindowResult out;
    for (int t = 0; t < kTicks; ++t) {
        m.nextTick();
        const uint64_t nb = baseRuns(m.rng), nc = candRuns(m.rng);
        br += nb;
        bns += m.timed(nb, 30.0);
        cr += nc;
        cns += m.timed(nc, candidateNs);
        base.observe(br, bns);
        cand.observe(cr, cns);
        auto s = slowdownInterval(base.logBatchMeans(), cand.logBatchMeans(), perLookConfidence(kConfidence, kTicks));
        if (s && judgeInterval(s->ratio, limit, LimitSide::AtMost).outcome == GateOutcome::Fail) out.failedAtSomeLook = true;
        if (br >= 100 && cr >= 100 && (double(cns) / double(cr)) / (double(bns) / double(br)) > limit)
            out.pointFailedAtSomeLook = true;
    }
    auto s = slowdownInterval(base.logBatchMeans(), cand.logBatchMeans(), kConfidence);
    if (s) out.atEnd = judgeInterval(s->ratio, limit, LimitSide::AtMost).outcome;
    return out;
}

}  // namespace

TEST_CASE("max_slowdown on batch means: the same program is never rolled back by noise, a slow one is",
          "[unit]") {
    NoisyMachine m(7);
    // A 5% step: the candidate is timed a twentieth as often as the baseline.
    int falseRollbacks = 0, pointFails = 0, passed = 0;
    const int windows = 150;
    for (int w = 0; w < windows; ++w) {
        const auto r = runWindow(m, 30.0, 1.2, 40, 2);
        falseRollbacks += r.failedAtSomeLook || r.atEnd == GateOutcome::Fail;
        pointFails += r.pointFailedAtSomeLook;
        passed += r.atEnd == GateOutcome::Pass;
    }
    INFO("the point figure was past 1.2 in " << pointFails << " of " << windows << " windows");
    CHECK(falseRollbacks == 0);
    // The point figure the gate judged before would have rolled back an identical candidate in
    // some of them.
    CHECK(pointFails >= windows / 50);
    // An honest candidate is not held forever: most windows settle on a pass.
    CHECK(passed > windows / 2);

    // Six times slower (the naive Fibonacci on x.x.x.255): rolled back in every window, mid-window.
    for (int w = 0; w < 20; ++w) CHECK(runWindow(m, 180.0, 1.2, 40, 2).failedAtSomeLook);
    // 1.6x against a limit of 1.2 with a 50% split: caught by the window's end.
    int caught = 0;
    for (int w = 0; w < 20; ++w) caught += runWindow(m, 48.0, 1.2, 20, 20).atEnd == GateOutcome::Fail;
    CHECK(caught >= 18);
}
