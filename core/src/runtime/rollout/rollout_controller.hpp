// The state machine of a gated progressive rollout: which step runs, whether its gates held over
// the step's window, and what to do next (advance, hold, roll back, promote). Pure decision logic:
// it is handed cumulative figures and a time, never touches the kernel, and so is unit-tested on
// made-up figures. The host samples the figures on its loop and carries out the decisions.
#pragma once

#include "config/rollout_plan.hpp"
#include "util/cost_batches.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::runtime {

using RolloutClock = std::chrono::steady_clock;

/// How often the host judges a running rollout (its loop ticks every 1000 / this ms). The gates
/// share their error chance among the looks a window takes (perLookConfidence), so the controller
/// must know how many looks a window holds.
inline constexpr unsigned kRolloutTicksPerSecond = 5;
/// max_slowdown is judged only while each variant meets at least this share of sources (the
/// shadow stage, where both see every frame, and steps from 25% to 75%); at other steps it is
/// shown, not judged, and at 100% the candidate is judged against the baseline of the last
/// balanced step. A variant on few frames runs with its code and maps out of cache, so its ns/run
/// measures the cache, not the code: the same program measured 2.6x the baseline at 1%, 1.6x at
/// 5%, 1.2x at 10%, 1.00-1.04x from 25% to 50% and 0.86x at 80% (the baseline the rare one) on a
/// shared 2-vCPU machine.
inline constexpr unsigned kMinCostSharePercent = 25;

/// One variant's program instance, counted since it was loaded (cumulative, never reset).
struct VariantFigures {
    uint32_t programId = 0;  // a different id is a new instance: the window starts again
    uint64_t emitted = 0, dropped = 0, undecodable = 0;
    // Time spent in the variant and its runs, where something measures them per variant (the
    // kernel does not account programs reached by tail call): absent = unavailable.
    std::optional<uint64_t> runs, runNs;
};

/// Everything the gates are judged on, read at one moment.
struct RolloutSample {
    RolloutClock::time_point at;
    uint32_t dispatcherId = 0;  // its cost and comparison counts start from zero with a new one
    VariantFigures baseline, candidate;
    // Shadow comparison, where it runs: frames compared, and of them the frames that disagree in
    // a cell the rollout's `expected` list does not name (all disagreeing frames without a list).
    // Frames in expected cells are reported in the table, never held against the candidate.
    std::optional<uint64_t> compared, disagreed;
};

// Undecided: the gate's interval straddles the limit; the stage holds until more data settle it.
enum class GateVerdict { Pass, Fail, TooLittleData, Unavailable, Undecided };

/// One gate over the current window.
struct GateReading {
    std::string name;  // the config key: "max_drop_rate", ...
    double limit = 0;
    std::optional<double> figure;  // absent: unavailable, or no sample at all yet
    uint64_t samples = 0;          // the figure's denominator over the window
    uint64_t minSamples = 0;
    GateVerdict verdict = GateVerdict::TooLittleData;
    std::string unit;  // what a sample is: "messages", "timed runs", "frames"
    // The figure's two-sided interval at `confidence` (the per-look confidence the gate was judged
    // at: the rollout's confidence shared among the window's looks). Absent until it exists.
    std::optional<double> lower, upper;
    double confidence = 0;
    bool operator==(const GateReading&) const = default;
};

// Shadow: the candidate runs on every frame beside the baseline (plan.shadowSeconds > 0), before
// the split steps; Step: a split step.
enum class RolloutStage { Shadow, Step, RolledBack, Promoted, Complete };
enum class DecisionKind { Start, Advance, Hold, Rollback, Promote, Complete };

/// Where a rollout stands, for status: RolloutController::status().
struct RolloutStatus {
    RolloutStage stage = RolloutStage::Step;
    size_t step = 0;  // 1-based; 0 until a split step was reached (a rollback from shadow included)
    std::vector<unsigned> steps;
    unsigned percent = 0;
    uint32_t stepSeconds = 0, shadowSeconds = 0;
    double secondsInStep = 0;
    double windowSeconds = 0;  // the span the current window's figures cover
    bool promote = false;
    double confidence = 0;           // the rollout's `confidence` (each look: GateReading::confidence)
    std::vector<GateReading> gates;  // the latest reading
    std::string verdict;             // "watching", "holding", or what the end stage means
    std::string reason;
    std::optional<std::string> actionError;  // carrying out the last decision failed
    bool operator==(const RolloutStatus&) const = default;
};

struct RolloutDecision {
    DecisionKind kind = DecisionKind::Start;
    unsigned from = 0, to = 0;  // percent to the candidate before and after
    // The stage the decision was judged in (absent for Start) and the stage it leads to: 0% in
    // the shadow stage is every frame to both variants, 0% after a rollback the baseline alone.
    std::optional<RolloutStage> fromStage;
    RolloutStage toStage = RolloutStage::Step;
    double windowSeconds = 0;   // the span the figures cover
    std::vector<GateReading> gates;
    std::string reason;
    std::chrono::system_clock::time_point time = std::chrono::system_clock::now();  // when it was taken
};

class RolloutController {
public:
    /// A plan starting now: at its shadow stage when it has one, else at its first step.
    /// `plan.steps` must not be empty (the loader's rule).
    RolloutController(config::RolloutPlan plan, RolloutClock::time_point now);

    /// The Start decision (from 0 to the first step, or to 0 in a shadow stage), for the log and
    /// the events stream.
    RolloutDecision started() const;

    /// Judges the current window on `sample`. Every gate is judged on an interval at the plan's
    /// confidence shared among the window's looks: Rollback as soon as a gate with enough data has
    /// its whole interval past the limit; at the end of a window, Advance when every gate's interval
    /// lies within its limit, Promote or Complete after the last step, else Hold (an interval that
    /// straddles the limit, too little data, or a figure unavailable: the window stays open and is
    /// judged again a step_seconds later). A sample of a new program instance opens a fresh window.
    /// Never throws.
    std::optional<RolloutDecision> tick(const RolloutSample& sample);

    const config::RolloutPlan& plan() const { return plan_; }
    RolloutStage stage() const { return stage_; }
    /// The percent the split should be at now (0 in the shadow stage and after a rollback, the
    /// last step when complete).
    unsigned percent() const;
    /// Why the rollout stands where it stands (after a hold, rollback, promotion).
    const std::string& reason() const { return reason_; }
    /// Puts a plan started by an earlier host where that host left it (its pinned progress): the
    /// stage and step it had reached, judged afresh from `now` (the window opens with the next
    /// sample). `step` must index the plan's steps. Never throws.
    void resume(RolloutStage stage, size_t step, const std::string& reason, RolloutClock::time_point now);
    /// The index of the current (or last reached) step in plan().steps.
    size_t stepIndex() const { return step_; }

    /// Notes that carrying out the last decision failed (shown in status until the next decision).
    void actionFailed(const std::string& why) { actionError_ = why; }
    /// Notes that a failed action was carried out at last: the stage runs from now, so its window
    /// opens with the next sample (the figures since the decision are the previous stage's).
    void actionCarriedOut() {
        actionError_.clear();
        window_.reset();
    }

    /// Step, percent, time in step, each gate's figure and limit, the verdict. Never throws but bad_alloc.
    RolloutStatus status(RolloutClock::time_point now) const;

private:
    std::vector<GateReading> judge(const RolloutSample& s) const;
    /// Both variants meet enough sources for their costs to compare (kMinCostSharePercent).
    bool costComparable() const;
    GateReading slowdownGate(const RolloutSample& s, double confidence) const;
    void observeCosts(const RolloutSample& s);
    void openWindow(const RolloutSample& s);
    double lookConfidence() const;
    bool judging() const { return stage_ == RolloutStage::Shadow || stage_ == RolloutStage::Step; }
    std::chrono::seconds windowLength() const;

    config::RolloutPlan plan_;
    RolloutStage stage_ = RolloutStage::Step;
    size_t step_ = 0;
    RolloutClock::time_point stepSince_, judgeAt_;
    std::optional<RolloutSample> window_;  // the figures when the window opened
    std::vector<GateReading> last_;        // the latest reading, for status
    std::string reason_, actionError_;
    bool held_ = false;
    bool split_ = false;  // a split step was reached (status: step 0 until then, a rollback included)
    // max_slowdown: each variant's timed runs in the window as batch means (cost_batches.hpp). The
    // first batch's worth of runs after a window opens is left out (warmUp*): after a move the
    // candidate's code and data are cold, and a 1% step times it too rarely for that to wash out.
    stats::CostBatches baseBatches_, candBatches_;
    bool baseWarm_ = false, candWarm_ = false;
    // The baseline's batches over the last window where it had enough: at 100% it runs on nothing.
    std::optional<stats::Summary> lastBaseline_;
    uint64_t lastBaselineRuns_ = 0;
    uint64_t looks_ = 0;  // ticks judged since the window opened
};

std::string_view toString(GateVerdict v);
std::string_view toString(DecisionKind k);
std::string_view toString(RolloutStage s);
/// The stage toString() names `name`; nullopt for none.
std::optional<RolloutStage> stageNamed(std::string_view name);

/// One log line: "advance 5% -> 25%: ...; gates: max_drop_rate 0 [0, 0.0016] <= 0.01 at 99.99% (4100 messages), ...";
/// the shadow stage is written "shadow" instead of its 0% ("advance shadow -> 5%").
std::string describe(const RolloutDecision& d);
/// The events-stream record: {"rollout":{"interface":...,"decision":...,"from":..,"to":..,"from_stage":..,
/// "to_stage":..,"time":"2026-12-07T18:30:01.123456Z","figures":{NAME:{"figure","lower","upper","confidence",
/// "limit","samples","verdict"}}}}.
nlohmann::json decisionRecord(const std::string& iface, const RolloutDecision& d);
/// The same as one text line (the events stream's text format), without the newline.
std::string decisionText(const std::string& iface, const RolloutDecision& d);

}  // namespace fizzhost::runtime
