#include "util/cost_batches.hpp"

#include <algorithm>
#include <cmath>

namespace fizzhost::stats {

bool CostBatches::observe(uint64_t runs, uint64_t ns) {
    if (!started_) {
        started_ = true;
        lastRuns_ = runs;
        lastNs_ = ns;
        return true;
    }
    if (runs < lastRuns_ || ns < lastNs_) return false;
    openRuns_ += runs - lastRuns_;
    openNs_ += ns - lastNs_;
    lastRuns_ = runs;
    lastNs_ = ns;
    if (openRuns_ >= minRuns_) {
        // A batch whose clock reads summed to 0 ns (no real run is that fast) counts as 1 ns, so
        // its logarithm stays finite.
        batches_.add(std::log(double(std::max<uint64_t>(openNs_, 1)) / double(openRuns_)));
        closedRuns_ += openRuns_;
        openRuns_ = openNs_ = 0;
    }
    return true;
}

std::optional<SlowdownEstimate> slowdownInterval(const Summary& baseline, const Summary& candidate, double confidence) {
    auto w = welchInterval(baseline, candidate, confidence);
    if (!w) return std::nullopt;
    return SlowdownEstimate{exponentiated(w->difference), w->df, baseline.count(), candidate.count()};
}

}  // namespace fizzhost::stats
