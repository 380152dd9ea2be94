// A gate judged on an interval, not on a point: it passes when the whole interval is within the
// limit, fails when the whole interval is past it, and is undecided (the stage holds, saying so)
// while the interval straddles the limit -- more data narrows it. With a two-sided interval at
// confidence c, a verdict is wrong with probability at most (1 - c) / 2 per look, whatever side.
// Pure functions; any thread.
#pragma once

#include "util/interval_stats.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace fizzhost::stats {

enum class GateOutcome { Pass, Fail, Undecided };

/// Which side of the limit is good: AtMost for a cost or a rate (the figure must stay <= limit),
/// AtLeast for a throughput.
enum class LimitSide { AtMost, AtLeast };

struct GateJudgement {
    GateOutcome outcome = GateOutcome::Undecided;
    /// The figure, its interval and the limit, and how they lie, e.g. "1.031 [0.9802, 1.084] <= 1.2",
    /// "6.312 [5.9, 6.75] > 1.2", "1.15 [1.02, 1.29] straddles 1.2". The caller adds the gate's name,
    /// the confidence and the samples.
    std::string reason;
};

/// AtMost: Pass when interval.upper <= limit, Fail when interval.lower > limit, else Undecided;
/// AtLeast mirrored (Pass when lower >= limit, Fail when upper < limit).
GateJudgement judgeInterval(const Interval& interval, double limit, LimitSide side);

std::string_view toString(GateOutcome outcome);

/// A rate gate ("at most `limit` of the samples may be bad"): `bad` of `samples` judged on their
/// Wilson interval at `confidence`. A limit of 0 admits no bad sample at all, and no finite sample
/// can bring an upper bound down to 0: such a gate fails on the first bad sample and passes while
/// there is none (the caller asks for enough samples first, as with any gate). An undecided gate
/// with no bad sample says how many samples would settle it (samplesToConfirm). Nullopt for
/// samples = 0 or bad > samples.
struct RateJudgement {
    Interval interval;
    GateJudgement judgement;
};
std::optional<RateJudgement> judgeRate(uint64_t bad, uint64_t samples, double limit, double confidence);

/// The fewest samples, none of them bad, whose Wilson upper bound at `confidence` is within
/// `limit` (in (0, 1)): z^2 (1 - limit) / limit, rounded up. 0 for a limit outside (0, 1).
uint64_t samplesToConfirm(double limit, double confidence);

/// `value` with 4 significant digits ("1.031", "0.0002", "6.3e+05"), as the reasons print figures.
std::string shortNumber(double value);

}  // namespace fizzhost::stats
