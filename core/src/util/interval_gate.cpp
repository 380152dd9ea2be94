#include "util/interval_gate.hpp"

#include <cmath>
#include <cstdio>

namespace fizzhost::stats {
namespace {

std::string describe(const Interval& i, std::string_view relation, double limit) {
    return shortNumber(i.estimate) + " [" + shortNumber(i.lower) + ", " + shortNumber(i.upper) + "] " +
           std::string(relation) + " " + shortNumber(limit);
}

}  // namespace

std::string shortNumber(double value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", value);
    return buf;
}

std::string_view toString(GateOutcome outcome) {
    switch (outcome) {
    case GateOutcome::Pass: return "pass";
    case GateOutcome::Fail: return "fail";
    case GateOutcome::Undecided: return "undecided";
    }
    return "?";
}

GateJudgement judgeInterval(const Interval& i, double limit, LimitSide side) {
    if (side == LimitSide::AtMost) {
        if (i.upper <= limit) return {GateOutcome::Pass, describe(i, "<=", limit)};
        if (i.lower > limit) return {GateOutcome::Fail, describe(i, ">", limit)};
    } else {
        if (i.lower >= limit) return {GateOutcome::Pass, describe(i, ">=", limit)};
        if (i.upper < limit) return {GateOutcome::Fail, describe(i, "<", limit)};
    }
    return {GateOutcome::Undecided, describe(i, "straddles", limit)};
}

std::optional<RateJudgement> judgeRate(uint64_t bad, uint64_t samples, double limit, double confidence) {
    auto interval = wilsonInterval(bad, samples, confidence);
    if (!interval) return std::nullopt;
    RateJudgement r{*interval, {}};
    if (limit <= 0) {
        // Nothing bad is allowed: the count decides, not an interval.
        r.judgement = bad == 0 ? GateJudgement{GateOutcome::Pass, "none of " + std::to_string(samples) + " <= 0"}
                               : GateJudgement{GateOutcome::Fail, std::to_string(bad) + " of " + std::to_string(samples) +
                                                                      " > 0 (a limit of 0 admits none)"};
        return r;
    }
    r.judgement = judgeInterval(*interval, limit, LimitSide::AtMost);
    if (r.judgement.outcome == GateOutcome::Undecided && bad == 0)
        r.judgement.reason += " (" + std::to_string(samplesToConfirm(limit, confidence)) + " samples with none bad would settle it)";
    return r;
}

uint64_t samplesToConfirm(double limit, double confidence) {
    if (!(limit > 0 && limit < 1)) return 0;
    const double z = normalQuantile(twoSided(confidence));
    return uint64_t(std::ceil(z * z * (1 - limit) / limit));
}

}  // namespace fizzhost::stats
