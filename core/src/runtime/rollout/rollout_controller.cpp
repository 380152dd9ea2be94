#include "runtime/rollout/rollout_controller.hpp"

#include "util/interval_gate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace fizzhost::runtime {
namespace {

uint64_t delta(uint64_t now, uint64_t then) { return now >= then ? now - then : 0; }

double seconds(RolloutClock::duration d) { return std::chrono::duration<double>(d).count(); }

// "99.99%": a confidence as the readings print it.
std::string percentText(double confidence) { return stats::shortNumber(confidence * 100) + "%"; }

GateVerdict verdictOf(stats::GateOutcome o) {
    switch (o) {
    case stats::GateOutcome::Pass: return GateVerdict::Pass;
    case stats::GateOutcome::Fail: return GateVerdict::Fail;
    case stats::GateOutcome::Undecided: return GateVerdict::Undecided;
    }
    return GateVerdict::Undecided;
}

// A rate gate: `bad` out of `samples` over the window, judged on its Wilson interval at
// `confidence` once the window holds at least minSamples.
GateReading rateGate(std::string name, double limit, uint64_t bad, uint64_t samples, uint64_t minSamples,
                     std::string unit, double confidence) {
    GateReading g{std::move(name), limit,        std::nullopt, samples,   minSamples, GateVerdict::TooLittleData,
                  std::move(unit), std::nullopt, std::nullopt, confidence};
    const auto r = stats::judgeRate(std::min(bad, samples), samples, limit, confidence);
    if (!r) return g;
    g.figure = r->interval.estimate;
    g.lower = r->interval.lower;
    g.upper = r->interval.upper;
    if (samples >= minSamples) g.verdict = verdictOf(r->judgement.outcome);
    return g;
}

GateReading unavailable(std::string name, double limit, uint64_t minSamples, std::string unit) {
    return {std::move(name), limit,        std::nullopt, 0,         minSamples, GateVerdict::Unavailable,
            std::move(unit), std::nullopt, std::nullopt, 0.0};
}

std::string num(std::optional<double> v) { return v ? stats::shortNumber(*v) : std::string("-"); }

// "0.0012 [0.0004, 0.0031]", or the figure alone while there is no interval.
std::string intervalText(const GateReading& g) {
    if (!g.lower || !g.upper) return num(g.figure);
    return fmt::format("{} [{}, {}]", num(g.figure), num(g.lower), num(g.upper));
}

std::string figureText(const GateReading& g) {
    if (g.verdict == GateVerdict::Unavailable && g.figure)
        return fmt::format("{} {} not judged while a variant meets under {}% of sources (limit {:.4g}, {} {})",
                           g.name, intervalText(g), kMinCostSharePercent, g.limit, g.samples, g.unit);
    if (g.verdict == GateVerdict::Unavailable) return fmt::format("{} unavailable (limit {:.4g})", g.name, g.limit);
    const std::string at = g.confidence > 0 ? " at " + percentText(g.confidence) : std::string();
    switch (g.verdict) {
    case GateVerdict::Pass:
        return fmt::format("{} {} <= {:.4g}{} ({} {})", g.name, intervalText(g), g.limit, at, g.samples, g.unit);
    case GateVerdict::Fail:
        return fmt::format("{} {} > {:.4g}{} ({} {})", g.name, intervalText(g), g.limit, at, g.samples, g.unit);
    case GateVerdict::Undecided:
        return fmt::format("{} {} straddles {:.4g}{} ({} {}): undecided, more data will settle it", g.name,
                           intervalText(g), g.limit, at, g.samples, g.unit);
    default:
        return fmt::format("{} {} (limit {:.4g}): too little data, {} of {} {}", g.name, intervalText(g), g.limit,
                           g.samples, g.minSamples, g.unit);
    }
}

// RFC 3339 in UTC with microseconds: "2026-12-07T18:30:01.123456Z".
std::string rfc3339(std::chrono::system_clock::time_point t) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    const std::time_t secs = std::time_t(us / 1000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, us % 1000000);
}

// Where the split stands, for log lines: the shadow stage is not "0%" (that is the baseline alone).
std::string share(unsigned percent, std::optional<RolloutStage> stage, std::string_view unit) {
    if (stage == RolloutStage::Shadow) return "shadow";
    return fmt::format("{}{}", percent, unit);
}

}  // namespace

std::string_view toString(GateVerdict v) {
    switch (v) {
    case GateVerdict::Pass: return "pass";
    case GateVerdict::Fail: return "fail";
    case GateVerdict::TooLittleData: return "too_little_data";
    case GateVerdict::Unavailable: return "unavailable";
    case GateVerdict::Undecided: return "undecided";
    }
    return "?";
}

std::string_view toString(DecisionKind k) {
    switch (k) {
    case DecisionKind::Start: return "start";
    case DecisionKind::Advance: return "advance";
    case DecisionKind::Hold: return "hold";
    case DecisionKind::Rollback: return "rollback";
    case DecisionKind::Promote: return "promote";
    case DecisionKind::Complete: return "complete";
    }
    return "?";
}

std::string_view toString(RolloutStage s) {
    switch (s) {
    case RolloutStage::Shadow: return "shadow";
    case RolloutStage::Step: return "step";
    case RolloutStage::RolledBack: return "rolled_back";
    case RolloutStage::Promoted: return "promoted";
    case RolloutStage::Complete: return "complete";
    }
    return "?";
}

std::optional<RolloutStage> stageNamed(std::string_view name) {
    for (auto s : {RolloutStage::Shadow, RolloutStage::Step, RolloutStage::RolledBack, RolloutStage::Promoted,
                   RolloutStage::Complete})
        if (toString(s) == name) return s;
    return std::nullopt;
}

RolloutController::RolloutController(config::RolloutPlan plan, RolloutClock::time_point now)
    : plan_(std::move(plan)), stage_(plan_.shadowSeconds > 0 ? RolloutStage::Shadow : RolloutStage::Step),
      stepSince_(now), split_(stage_ == RolloutStage::Step) {
    judgeAt_ = now + windowLength();
    RolloutSample none;
    none.at = now;
    last_ = judge(none);
}

void RolloutController::resume(RolloutStage stage, size_t step, const std::string& reason,
                               RolloutClock::time_point now) {
    stage_ = stage;
    step_ = step;
    split_ = stage != RolloutStage::Shadow;
    held_ = false;
    window_.reset();
    stepSince_ = now;
    judgeAt_ = now + windowLength();
    reason_ = reason;
    actionError_.clear();
}

std::chrono::seconds RolloutController::windowLength() const {
    return std::chrono::seconds(stage_ == RolloutStage::Shadow ? plan_.shadowSeconds : plan_.stepSeconds);
}

RolloutDecision RolloutController::started() const {
    RolloutDecision d;
    d.kind = DecisionKind::Start;
    d.from = 0;
    d.to = stage_ == RolloutStage::Shadow ? 0 : plan_.steps.front();
    d.toStage = stage_;
    d.gates = last_;
    d.reason = fmt::format("{}{} step(s) of {} s{}",
                           stage_ == RolloutStage::Shadow ? fmt::format("a shadow stage of {} s, then ", plan_.shadowSeconds)
                                                          : std::string(),
                           plan_.steps.size(), plan_.stepSeconds, plan_.promote ? ", promote after the last" : "");
    return d;
}

unsigned RolloutController::percent() const {
    switch (stage_) {
    case RolloutStage::Step:
    case RolloutStage::Complete: return plan_.steps[step_];
    case RolloutStage::Shadow:
    case RolloutStage::RolledBack: return 0;
    case RolloutStage::Promoted: return 100;
    }
    return 0;
}

double RolloutController::lookConfidence() const {
    // The error chance is shared among the looks the window takes: as many as planned for its
    // length, or as many as it has taken when holds stretched it.
    const uint64_t planned = uint64_t(windowLength().count()) * kRolloutTicksPerSecond;
    return stats::perLookConfidence(plan_.confidence, std::max(planned, looks_));
}

void RolloutController::openWindow(const RolloutSample& s) {
    window_ = s;
    looks_ = 0;
    baseBatches_ = stats::CostBatches();
    candBatches_ = stats::CostBatches();
    baseWarm_ = candWarm_ = false;
}

void RolloutController::observeCosts(const RolloutSample& s) {
    const RolloutSample& w = *window_;
    const auto feed = [](stats::CostBatches& batches, bool& warm, const VariantFigures& now, const VariantFigures& then) {
        if (!now.runs || !now.runNs || !then.runs || !then.runNs) return;
        if (!warm) {
            // The warm-up: a batch's worth of runs after the window opened is not judged.
            if (*now.runs < *then.runs + stats::kDefaultMinRunsPerBatch) return;
            warm = true;
        }
        batches.observe(*now.runs, *now.runNs);
    };
    feed(baseBatches_, baseWarm_, s.baseline, w.baseline);
    feed(candBatches_, candWarm_, s.candidate, w.candidate);
    if (costComparable() && baseBatches_.batches() >= 2 && baseBatches_.closedRuns() >= plan_.minSamples) {
        lastBaseline_ = baseBatches_.logBatchMeans();
        lastBaselineRuns_ = baseBatches_.closedRuns();
    }
}

bool RolloutController::costComparable() const {
    const unsigned p = percent();
    return stage_ != RolloutStage::Step || (p >= kMinCostSharePercent && p <= 100 - kMinCostSharePercent);
}

GateReading RolloutController::slowdownGate(const RolloutSample& s, double confidence) const {
    const double limit = *plan_.gates.maxSlowdown;
    const uint64_t min = plan_.minSamples;
    const RolloutSample& w = window_ ? *window_ : s;
    if (!s.baseline.runs || !s.baseline.runNs || !s.candidate.runs || !s.candidate.runNs || !w.baseline.runs ||
        !w.candidate.runs)
        return unavailable("max_slowdown", limit, min, "timed runs");
    GateReading r{"max_slowdown", limit,        std::nullopt, 0,         min, GateVerdict::TooLittleData,
                  "timed runs",   std::nullopt, std::nullopt, confidence};
    // At 100% the baseline runs on nothing: its batches are those of the last window where it
    // ran enough (and its runs no longer limit the samples).
    const bool own = baseBatches_.batches() >= 2;
    const stats::Summary* base = own ? &baseBatches_.logBatchMeans() : lastBaseline_ ? &*lastBaseline_ : nullptr;
    const uint64_t baseRuns = own ? baseBatches_.closedRuns() : lastBaselineRuns_;
    r.samples = base ? std::min(baseRuns, candBatches_.closedRuns()) : 0;
    if (!base) return r;
    const auto est = stats::slowdownInterval(*base, candBatches_.logBatchMeans(), confidence);
    if (!est) return r;
    r.figure = est->ratio.estimate;
    r.lower = est->ratio.lower;
    r.upper = est->ratio.upper;
    if (!costComparable() && percent() < 100) {
        r.verdict = GateVerdict::Unavailable;  // shown, not judged: see kMinCostSharePercent
        return r;
    }
    if (r.samples >= min)
        r.verdict = verdictOf(stats::judgeInterval(est->ratio, limit, stats::LimitSide::AtMost).outcome);
    return r;
}

std::vector<GateReading> RolloutController::judge(const RolloutSample& s) const {
    std::vector<GateReading> out;
    const RolloutSample& w = window_ ? *window_ : s;
    const auto& g = plan_.gates;
    const uint64_t min = plan_.minSamples;
    const double conf = lookConfidence();
    if (g.maxSlowdown) out.push_back(slowdownGate(s, conf));
    if (g.maxDropRate) {
        const uint64_t dropped = delta(s.candidate.dropped, w.candidate.dropped);
        const uint64_t produced = delta(s.candidate.emitted, w.candidate.emitted) + dropped;
        out.push_back(rateGate("max_drop_rate", *g.maxDropRate, dropped, produced, min, "messages", conf));
    }
    if (g.maxUndecodableRate) {
        const uint64_t emitted = delta(s.candidate.emitted, w.candidate.emitted);
        // The decoder's verdict trails the program's count by one pump pass: a rate a little
        // under the truth for a moment, never over it.
        const uint64_t bad = std::min(delta(s.candidate.undecodable, w.candidate.undecodable), emitted);
        out.push_back(rateGate("max_undecodable_rate", *g.maxUndecodableRate, bad, emitted, min, "messages", conf));
    }
    // Disagreement exists only where both variants see the same frames: the shadow stage. Both
    // gates count the frames outside the expected cells (RolloutSample::disagreed).
    if (stage_ == RolloutStage::Shadow) {
        const bool figures = s.compared && s.disagreed && w.compared && w.disagreed;
        for (const auto& [name, limit] :
             {std::pair{"max_disagreement", g.maxDisagreement}, std::pair{"max_unexpected", g.maxUnexpected}}) {
            if (!limit) continue;
            if (!figures)
                out.push_back(unavailable(name, *limit, min, "frames"));
            else
                out.push_back(rateGate(name, *limit, delta(*s.disagreed, *w.disagreed), delta(*s.compared, *w.compared),
                                       min, "frames", conf));
        }
    }
    return out;
}

std::optional<RolloutDecision> RolloutController::tick(const RolloutSample& s) {
    if (!judging()) return std::nullopt;
    const auto stepLength = windowLength();
    if (!window_ || window_->dispatcherId != s.dispatcherId || window_->baseline.programId != s.baseline.programId ||
        window_->candidate.programId != s.candidate.programId) {
        // The first figures of this step, or of new program instances (a reload swapped one):
        // counts of the old instance say nothing about the new one.
        openWindow(s);
        judgeAt_ = s.at + stepLength;
        last_ = judge(s);
        return std::nullopt;
    }
    ++looks_;
    observeCosts(s);
    last_ = judge(s);
    RolloutDecision d;
    d.from = d.to = percent();
    d.fromStage = d.toStage = stage_;
    d.windowSeconds = seconds(s.at - window_->at);
    const bool shadowStage = stage_ == RolloutStage::Shadow;
    const std::string where = shadowStage ? std::string("in the shadow stage") : fmt::format("at {}%", d.from);
    d.gates = last_;
    actionError_.clear();

    // Every gate that failed at this look is named: two gates often fail on the same frames (an
    // unexpected difference is a disagreement too), and which one crossed first is chance.
    std::string failed;
    for (const auto& g : last_)
        if (g.verdict == GateVerdict::Fail) failed += (failed.empty() ? "" : "; ") + figureText(g);
    if (!failed.empty()) {
        stage_ = d.toStage = RolloutStage::RolledBack;
        d.kind = DecisionKind::Rollback;
        d.to = 0;
        reason_ = fmt::format("rolled back {}: {} over {:.1f} s", where, failed, d.windowSeconds);
        d.reason = reason_;
        return d;
    }
    if (s.at < judgeAt_) return std::nullopt;

    std::string holding;
    for (const auto& g : last_) {
        // A cost shown but not judged at a small share (kMinCostSharePercent) does not hold the step.
        const bool notJudged = g.verdict == GateVerdict::Unavailable && g.figure;
        if (g.verdict != GateVerdict::Pass && !notJudged) holding += (holding.empty() ? "" : "; ") + figureText(g);
    }
    if (!holding.empty()) {
        // Not enough to judge on, or an interval that straddles its limit: the window stays open
        // (its figures keep accumulating, its intervals narrow) and is judged again a step later.
        judgeAt_ = s.at + stepLength;
        held_ = true;
        d.kind = DecisionKind::Hold;
        reason_ = fmt::format("holding {} after {:.1f} s: {}", where, d.windowSeconds, holding);
        d.reason = reason_;
        return d;
    }
    held_ = false;
    if (stage_ == RolloutStage::Shadow || step_ + 1 < plan_.steps.size()) {
        if (shadowStage)
            stage_ = RolloutStage::Step, split_ = true;  // the shadow stage held: the first split step
        else
            ++step_;
        d.kind = DecisionKind::Advance;
        d.to = plan_.steps[step_];
        d.toStage = stage_;
        reason_ = fmt::format("every gate held {} over {:.1f} s", where, d.windowSeconds);
        d.reason = reason_;
        stepSince_ = s.at;
        openWindow(s);
        judgeAt_ = s.at + windowLength();
        return d;
    }
    if (plan_.promote) {
        stage_ = d.toStage = RolloutStage::Promoted;
        d.kind = DecisionKind::Promote;
        d.to = 100;
        reason_ = fmt::format("promoted: every gate held at the last step ({}%) over {:.1f} s", d.from, d.windowSeconds);
    } else {
        stage_ = d.toStage = RolloutStage::Complete;
        d.kind = DecisionKind::Complete;
        reason_ = fmt::format("complete: every gate held at the last step ({}%) over {:.1f} s; the split stays "
                              "(promote = false)",
                              d.from, d.windowSeconds);
    }
    d.reason = reason_;
    return d;
}

RolloutStatus RolloutController::status(RolloutClock::time_point now) const {
    std::string verdict;
    switch (stage_) {
    case RolloutStage::Shadow:
    case RolloutStage::Step: verdict = held_ ? "holding" : "watching"; break;
    case RolloutStage::RolledBack: verdict = "rolled back: the baseline runs alone until the rollout table changes"; break;
    case RolloutStage::Promoted: verdict = "promoted: the candidate runs alone until the config changes"; break;
    case RolloutStage::Complete: verdict = "complete: the last step's split stays"; break;
    }
    RolloutStatus out;
    out.stage = stage_;
    out.step = split_ ? step_ + 1 : 0;
    out.steps = plan_.steps;
    out.percent = percent();
    out.stepSeconds = plan_.stepSeconds;
    out.shadowSeconds = plan_.shadowSeconds;
    out.secondsInStep = seconds(now - stepSince_);
    out.windowSeconds = window_ ? seconds(now - window_->at) : 0.0;
    out.promote = plan_.promote;
    out.confidence = plan_.confidence;
    out.gates = last_;
    out.verdict = verdict;
    out.reason = reason_;
    if (!actionError_.empty()) out.actionError = actionError_;
    return out;
}

std::string describe(const RolloutDecision& d) {
    std::string figures;
    for (const auto& g : d.gates) figures += (figures.empty() ? "" : ", ") + figureText(g);
    return fmt::format("{} {} -> {}: {}{}{}", toString(d.kind), share(d.from, d.fromStage, "%"),
                       share(d.to, d.toStage, "%"), d.reason, figures.empty() ? "" : "; gates: ", figures);
}

nlohmann::json decisionRecord(const std::string& iface, const RolloutDecision& d) {
    nlohmann::json figures = nlohmann::json::object();
    for (const auto& g : d.gates)
        figures[g.name] = {{"figure", g.figure ? nlohmann::json(*g.figure) : nlohmann::json(nullptr)},
                           {"lower", g.lower ? nlohmann::json(*g.lower) : nlohmann::json(nullptr)},
                           {"upper", g.upper ? nlohmann::json(*g.upper) : nlohmann::json(nullptr)},
                           {"confidence", g.confidence},
                           {"limit", g.limit},
                           {"samples", g.samples},
                           {"verdict", toString(g.verdict)}};
    return {{"rollout",
             {{"interface", iface},
              {"decision", toString(d.kind)},
              {"from", d.from},
              {"to", d.to},
              {"from_stage", d.fromStage ? nlohmann::json(toString(*d.fromStage)) : nlohmann::json(nullptr)},
              {"to_stage", toString(d.toStage)},
              {"time", rfc3339(d.time)},
              {"window_seconds", d.windowSeconds},
              {"figures", figures},
              {"reason", d.reason}}}};
}

std::string decisionText(const std::string& iface, const RolloutDecision& d) {
    std::string line = fmt::format("{} rollout {} {} -> {}", iface, toString(d.kind), share(d.from, d.fromStage, ""),
                                   share(d.to, d.toStage, ""));
    for (const auto& g : d.gates)
        line += fmt::format(" {}={}[{},{}]/{:.4g}:{}", g.name, num(g.figure), num(g.lower), num(g.upper), g.limit,
                            toString(g.verdict));
    return line + " time=" + rfc3339(d.time);
}

}  // namespace fizzhost::runtime
