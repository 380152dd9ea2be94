#include "measure/cost_comparison.hpp"

#include "runtime/instance/classifier.hpp"

#include <cmath>

namespace fizzhost::measure {

std::optional<stats::Interval> roundMeanInterval(const BenchFigures& f, double confidence) {
    stats::Summary s;
    for (double ns : f.roundNs) s.add(ns);
    return stats::meanInterval(s, confidence);
}

std::optional<stats::Interval> roundRatioInterval(const BenchFigures& a, const BenchFigures& b, double confidence) {
    if (a.roundNs.size() != b.roundNs.size()) return std::nullopt;
    stats::Summary logRatios;
    for (size_t r = 0; r < a.roundNs.size(); ++r) {
        if (!(a.roundNs[r] > 0 && b.roundNs[r] > 0)) return std::nullopt;
        logRatios.add(std::log(b.roundNs[r] / a.roundNs[r]));
    }
    auto i = stats::meanInterval(logRatios, confidence);
    if (!i) return std::nullopt;
    return stats::exponentiated(*i);
}

CostComparison compareCost(const std::shared_ptr<const plugin::Plugin>& a, const std::shared_ptr<const plugin::Plugin>& b,
                           const BenchSettings& settings, double confidence) {
    // Private instances, never attached: the bench owns their transports and empties them itself.
    auto ca = runtime::Classifier::load(a, benchClassifierOptions(*a, FIZZ_TRANSPORT_RING, settings));
    auto cb = runtime::Classifier::load(b, benchClassifierOptions(*b, FIZZ_TRANSPORT_RING, settings));
    auto figures = benchPrograms({benchProgramFor(*ca, "A"), benchProgramFor(*cb, "B")}, settings);
    CostComparison out{std::move(figures[0]), std::move(figures[1]), {}, {}, {}, settings};
    out.aMean = roundMeanInterval(out.a, confidence);
    out.bMean = roundMeanInterval(out.b, confidence);
    out.ratio = roundRatioInterval(out.a, out.b, confidence);
    return out;
}

std::vector<std::vector<uint8_t>> spreadSample(const std::vector<std::vector<uint8_t>>& frames, size_t max) {
    if (max == 0 || frames.size() <= max) return frames;
    std::vector<std::vector<uint8_t>> out;
    out.reserve(max);
    for (size_t i = 0; i < max; ++i) out.push_back(frames[i * frames.size() / max]);
    return out;
}

}  // namespace fizzhost::measure
