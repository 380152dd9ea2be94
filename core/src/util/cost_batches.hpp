// The estimator behind `max_slowdown` on live traffic: batch means of the dispatcher's timed runs,
// compared with Welch's t on their logarithms.
//
// What there is to work with: the A/B dispatcher times 1 frame in `cost_sample_period` per CPU and
// keeps, per CPU and per variant, the cumulative count of timed runs and their summed ns
// (struct fizz_variant_cost in <fizz/dispatcher.h>). The host sums the CPUs and reads both
// counters at every controller tick (5 a second).
//
// The estimator (chosen over a sum of squares kept by the dispatcher):
//  - Each variant's increments are gathered, tick by tick, into batches of at least `minRuns`
//    timed runs; a batch's mean ns per run is one observation, its logarithm enters a Summary.
//  - The slowdown is exp(mean log batch mean of the candidate - that of the baseline): the ratio of
//    the geometric means of the batch means. Its interval is Welch's t interval of that difference,
//    exponentiated (slowdownInterval).
// Why batches and not single runs: single timed runs are neither independent nor alike. A run that
// an interrupt or a cache-cold moment hits costs microseconds instead of nanoseconds, runs close in
// time share the machine's state, and the frame mix changes what a run costs (a naive Fibonacci
// loop walks 381 steps on x.x.x.255 and a few on x.x.x.3). A variance over single runs treats
// thousands of correlated runs as thousands of independent facts and gives intervals far too
// narrow: exactly the false rollbacks this replaces. Batch means are nearly normal (many runs
// each), nearly independent of each other (the method of non-overlapping batch means used for
// autocorrelated simulation output), and need nothing from BPF: a sum of squares would change the
// dispatcher's per-CPU record and cost every timed frame a multiply and a store, for a variance
// that answers the wrong question.
// Why logs: the gate is a ratio; on logs it is a difference of means, its interval symmetric, and
// exp() turns it back into a ratio interval whose bounds can be read against the limit.
// Why Welch: the two variants do not see the same number of frames (a 1% step times the candidate
// a hundred times less often than the baseline), so their batch means have different spreads and
// counts; Welch assumes neither equal. Slow changes of the whole machine (another tenant's build)
// move both variants' batches alike: they widen each variance rather than bias the difference, so
// the interval errs towards "undecided", never towards a rollback. At a 100% step the baseline
// runs on nothing: the caller keeps the baseline's Summary from the last window where it ran.
// Looks: the controller judges five times a second; a rollback in the middle of a window should
// use perLookConfidence(confidence, looks in the window) so that 300 looks a minute do not take
// 300 chances at a false alarm (interval_stats.hpp).
#pragma once

#include "util/interval_stats.hpp"

#include <cstdint>
#include <optional>

namespace fizzhost::stats {

/// Timed runs per batch by default: enough for a batch mean to be nearly normal, few enough that
/// a candidate timed a few times a second fills several batches in a minute.
inline constexpr uint64_t kDefaultMinRunsPerBatch = 16;

/// One variant's timed runs over a window, as batch means. Feed it the variant's cumulative
/// (runs, ns) at every tick; not thread-safe (one owner, the controller). No allocation.
class CostBatches {
public:
    explicit CostBatches(uint64_t minRunsPerBatch = kDefaultMinRunsPerBatch)
        : minRuns_(minRunsPerBatch ? minRunsPerBatch : 1) {}

    /// The variant's cumulative counters now. The first reading opens the window and counts
    /// nothing. A counter that went backwards (another dispatcher, counting from zero) is refused:
    /// returns false and changes nothing, and the caller opens a new window.
    bool observe(uint64_t runs, uint64_t ns);

    /// log(ns per run) of every closed batch.
    const Summary& logBatchMeans() const { return batches_; }
    uint64_t batches() const { return batches_.count(); }
    /// Timed runs in closed batches, and in the open one (not judged until it closes).
    uint64_t closedRuns() const { return closedRuns_; }
    uint64_t openRuns() const { return openRuns_; }

private:
    uint64_t minRuns_;
    bool started_ = false;
    uint64_t lastRuns_ = 0, lastNs_ = 0;
    uint64_t openRuns_ = 0, openNs_ = 0, closedRuns_ = 0;
    Summary batches_;
};

/// The candidate's ns per run over the baseline's, from the log batch means of each
/// (CostBatches::logBatchMeans): ratio = exp(Welch's interval of candidate - baseline) at
/// `confidence`; df the Welch-Satterthwaite degrees of freedom. Nullopt until each side has two
/// batches.
struct SlowdownEstimate {
    Interval ratio;
    double df = 0;
    uint64_t baselineBatches = 0, candidateBatches = 0;
};
std::optional<SlowdownEstimate> slowdownInterval(const Summary& baselineLogBatchMeans,
                                                 const Summary& candidateLogBatchMeans, double confidence);

}  // namespace fizzhost::stats
