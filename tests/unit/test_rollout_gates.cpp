// The rollout controller's gates judged on intervals: hold while an interval straddles its limit,
// advance when the upper bound is within it, roll back when the lower bound is past it; the
// slowdown gate on batch means of the dispatcher's timed runs (its warm-up batch left out), the
// shadow stage's gates on the frames outside the expected cells. No kernel: made-up figures.
#include "config/config_loader.hpp"
#include "runtime/rollout/rollout_book.hpp"
#include "runtime/rollout/rollout_controller.hpp"
#include "runtime/rollout/shadow_comparison.hpp"
#include "util/interval_stats.hpp"
#include "support/config_text.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace fizzhost;
using namespace fizzhost::runtime;
using namespace std::chrono_literals;

namespace {

const std::string kHead = "[interface.a]\nclassifier = \"fizzbuzz\"\n[interface.a.rollout]\ncandidate = \"fibonacci\"\n";

config::RolloutPlan plan(std::vector<unsigned> steps, config::RolloutGates gates, uint32_t stepSeconds = 10) {
    config::RolloutPlan p;
    p.steps = std::move(steps);
    p.stepSeconds = stepSeconds;
    p.minSamples = 100;
    p.promote = true;
    p.gates = gates;
    return p;
}

config::RolloutGates dropGate(double limit) {
    config::RolloutGates g;
    g.maxDropRate = limit;
    return g;
}

config::RolloutGates slowdownGate(double limit) {
    config::RolloutGates g;
    g.maxSlowdown = limit;
    return g;
}

RolloutSample dropped(RolloutClock::time_point at, uint64_t produced, uint64_t drops) {
    RolloutSample s;
    s.at = at;
    s.baseline.programId = 3;
    s.candidate.programId = 7;
    s.candidate.emitted = produced - drops;
    s.candidate.dropped = drops;
    return s;
}

const GateReading& gate(const std::vector<GateReading>& gates, const std::string& name) {
    for (const auto& g : gates)
        if (g.name == name) return g;
    FAIL("no gate " << name);
    return gates.front();
}

// Feeds a controller the dispatcher's cumulative timed runs, tick by tick (5 a second): each
// variant `runsPerTick` runs a tick at a cost drawn around its mean (log-normal noise, as the
// machine's is), until a decision or `until`.
struct CostFeed {
    RolloutController& c;
    RolloutClock::time_point t;
    std::mt19937_64 rng{42};
    uint64_t baseRuns = 0, baseNs = 0, candRuns = 0, candNs = 0;
    double noise = 0.3;  // the spread of log(ns per run) of one tick's runs

    std::optional<RolloutDecision> run(double baseMean, double candMean, uint64_t baseRunsPerTick,
                                       uint64_t candRunsPerTick, RolloutClock::duration length) {
        std::normal_distribution<double> z(0.0, noise);
        const auto end = t + length;
        for (; t <= end; t += 200ms) {
            baseRuns += baseRunsPerTick;
            baseNs += uint64_t(double(baseRunsPerTick) * baseMean * std::exp(z(rng)));
            candRuns += candRunsPerTick;
            candNs += uint64_t(double(candRunsPerTick) * candMean * std::exp(z(rng)));
            RolloutSample s;
            s.at = t;
            s.baseline.programId = 3;
            s.candidate.programId = 7;
            s.baseline.runs = baseRuns;
            s.baseline.runNs = baseNs;
            s.candidate.runs = candRuns;
            s.candidate.runNs = candNs;
            if (auto d = c.tick(s)) return d;
        }
        return std::nullopt;
    }
};

}  // namespace

TEST_CASE("rollout gates: a rate whose interval straddles the limit holds the step and says so", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({5, 100}, dropGate(0.01)), t0);
    c.tick(dropped(t0, 0, 0));
    // 10 of 1000 dropped: the figure is the limit itself, its interval reaches both sides.
    auto d = c.tick(dropped(t0 + 10s, 1000, 10));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Hold);
    const auto& g = gate(d->gates, "max_drop_rate");
    CHECK(g.verdict == GateVerdict::Undecided);
    REQUIRE(g.lower);
    REQUIRE(g.upper);
    CHECK(*g.lower < 0.01);
    CHECK(*g.upper > 0.01);
    CHECK(g.samples == 1000);
    CHECK_THAT(d->reason, Catch::Contains("holding at 5%") && Catch::Contains("straddles 0.01") &&
                              Catch::Contains("undecided, more data will settle it"));
    const auto st = c.status(t0 + 11s);
    CHECK(st.verdict == "holding");
    CHECK(st.confidence == 0.99);
    CHECK(st.gates[0].verdict == GateVerdict::Undecided);
    CHECK(c.percent() == 5);
}

TEST_CASE("rollout gates: advance when the upper bound is within the limit, roll back when the lower bound is past it",
          "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    SECTION("advance") {
        RolloutController c(plan({5, 100}, dropGate(0.01)), t0);
        c.tick(dropped(t0, 0, 0));
        // 10 of 10000: 0.001, its upper bound well under 0.01.
        auto d = c.tick(dropped(t0 + 10s, 10000, 10));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Advance);
        const auto& g = gate(d->gates, "max_drop_rate");
        CHECK(g.verdict == GateVerdict::Pass);
        CHECK(*g.upper <= 0.01);
        CHECK(*g.lower <= 0.001);
    }
    SECTION("rollback, mid-window, as soon as the lower bound is past the limit") {
        RolloutController c(plan({5, 100}, dropGate(0.01)), t0);
        c.tick(dropped(t0, 0, 0));
        // 3 of 150 (0.02): its interval still reaches under 0.01. Not yet.
        CHECK_FALSE(c.tick(dropped(t0 + 1s, 150, 3)));
        CHECK(c.status(t0 + 1s).gates[0].verdict == GateVerdict::Undecided);
        // 60 of 1000 (0.06): the whole interval is past 0.01.
        auto d = c.tick(dropped(t0 + 2s, 1000, 60));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Rollback);
        const auto& g = gate(d->gates, "max_drop_rate");
        CHECK(g.verdict == GateVerdict::Fail);
        CHECK(*g.lower > 0.01);
        CHECK_THAT(d->reason, Catch::Contains("rolled back at 5%: max_drop_rate 0.06 [") && Catch::Contains("> 0.01 at"));
    }
    SECTION("a limit of 0 admits none: the first bad sample fails, none passes") {
        RolloutController c(plan({5, 100}, dropGate(0.0)), t0);
        c.tick(dropped(t0, 0, 0));
        auto d = c.tick(dropped(t0 + 10s, 500, 0));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Advance);
        c.tick(dropped(t0 + 11s, 500, 0));
        d = c.tick(dropped(t0 + 12s, 1000, 1));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Rollback);
    }
}

TEST_CASE("rollout gates: each look is judged at the rollout's confidence shared among the window's looks", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    auto p = plan({5, 100}, dropGate(0.01));
    p.confidence = 0.999;
    RolloutController c(p, t0);
    c.tick(dropped(t0, 0, 0));
    c.tick(dropped(t0 + 1s, 200, 0));
    const auto st = c.status(t0 + 1s);
    // A window of 10 s judged 5 times a second: 50 looks.
    CHECK(st.gates[0].confidence == Approx(stats::perLookConfidence(0.999, 10 * kRolloutTicksPerSecond)));
    const auto want = stats::wilsonInterval(0, 200, st.gates[0].confidence);
    CHECK(*st.gates[0].upper == Approx(want->upper));
}

TEST_CASE("rollout gates: max_slowdown on batch means, Welch on log ns", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    SECTION("the same cost on both sides, noisy, at 1%: never rolled back, advances once the interval is within 1.2") {
        for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
            RolloutController c(plan({50, 100}, slowdownGate(1.2), 30), t0);
            CostFeed f{c, t0};
            f.rng.seed(seed);
            // 1% of the frames: the candidate is timed 100 times less often than the baseline.
            auto d = f.run(500, 500, 800, 8, 120s);
            REQUIRE(d);
            CHECK(d->kind != DecisionKind::Rollback);
            if (d->kind == DecisionKind::Advance) {
                const auto& g = gate(d->gates, "max_slowdown");
                CHECK(*g.upper <= 1.2);
                CHECK(*g.lower <= 1.0);
                CHECK(g.unit == "timed runs");
            }
        }
    }
    SECTION("a candidate 3 times slower is rolled back mid-window") {
        RolloutController c(plan({50, 100}, slowdownGate(1.2), 30), t0);
        CostFeed f{c, t0};
        auto d = f.run(500, 1500, 400, 40, 30s);
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Rollback);
        const auto& g = gate(d->gates, "max_slowdown");
        CHECK(*g.lower > 1.2);
        CHECK(*g.figure > 2.0);
        CHECK(d->windowSeconds < 30);
    }
    SECTION("below 25% of sources the cost is shown, not judged: a step is neither held nor rolled back by it") {
        RolloutController c(plan({5, 100}, slowdownGate(1.2), 30), t0);
        CostFeed f{c, t0};
        auto d = f.run(500, 1500, 400, 40, 30s);
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Advance);
        const auto& g = gate(d->gates, "max_slowdown");
        CHECK(g.verdict == GateVerdict::Unavailable);
        REQUIRE(g.figure);
        CHECK(*g.figure > 2.0);
    }
    SECTION("a candidate at the limit never advances") {
        RolloutController c(plan({50, 100}, slowdownGate(1.2), 10), t0);
        CostFeed f{c, t0};
        auto d = f.run(500, 600, 400, 40, 11s);
        REQUIRE(d);
        CHECK(d->kind != DecisionKind::Advance);
    }
}

TEST_CASE("rollout gates: the first batch after a window opens is left out (a cold candidate after a move)", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({50, 100}, slowdownGate(1.2), 10), t0);
    CostFeed f{c, t0};
    f.noise = 0.05;
    // The window opens; the candidate's first 16 timed runs cost 20 times the rest.
    REQUIRE_FALSE(f.run(500, 500, 200, 0, 0s));
    f.candRuns += stats::kDefaultMinRunsPerBatch;
    f.candNs += stats::kDefaultMinRunsPerBatch * 10000;
    auto d = f.run(500, 500, 200, 20, 12s);
    REQUIRE(d);
    // Judged on the warm runs alone: equal costs, and the slow start nowhere in the figure.
    CHECK(d->kind == DecisionKind::Advance);
    CHECK(gate(d->gates, "max_slowdown").figure == Approx(1.0).epsilon(0.05));
}

TEST_CASE("rollout gates: at 100% the slowdown is judged against the baseline's batches of the step before", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({50, 100}, slowdownGate(1.5), 10), t0);
    CostFeed f{c, t0};
    f.noise = 0.05;
    auto d = f.run(100, 110, 100, 100, 11s);
    REQUIRE(d);
    REQUIRE(d->kind == DecisionKind::Advance);
    // At 100% the baseline runs on nothing; a candidate now twice as slow is still caught.
    d = f.run(100, 220, 0, 200, 11s);
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Rollback);
    CHECK(*gate(d->gates, "max_slowdown").figure == Approx(2.2).epsilon(0.1));
}

TEST_CASE("rollout gates: the shadow stage judges frames outside the expected cells by both gates", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    auto p = plan({10, 100}, {});
    p.shadowSeconds = 5;
    p.gates.maxDisagreement = 0.01;
    p.gates.maxUnexpected = 0.0;
    auto compared = [&](RolloutClock::time_point at, uint64_t frames, uint64_t unexpected) {
        RolloutSample s;
        s.at = at;
        s.baseline.programId = 3;
        s.candidate.programId = 7;
        s.compared = frames;
        s.disagreed = unexpected;
        return s;
    };
    SECTION("none unexpected: on to the first step") {
        RolloutController c(p, t0);
        c.tick(compared(t0, 0, 0));
        auto d = c.tick(compared(t0 + 5s, 5000, 0));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Advance);
        CHECK(gate(d->gates, "max_unexpected").verdict == GateVerdict::Pass);
        CHECK(gate(d->gates, "max_disagreement").verdict == GateVerdict::Pass);
    }
    SECTION("one unexpected frame fails max_unexpected = 0") {
        RolloutController c(p, t0);
        c.tick(compared(t0, 0, 0));
        auto d = c.tick(compared(t0 + 1s, 5000, 1));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Rollback);
        CHECK(gate(d->gates, "max_unexpected").verdict == GateVerdict::Fail);
        CHECK_THAT(d->reason, Catch::Contains("rolled back in the shadow stage: max_unexpected"));
    }
}

TEST_CASE("the confusion table marks expected cells and counts only the others as unexpected", "[unit]") {
    const std::vector<std::string> base = {"Fizz", "Web"}, cand = {"Fizz", "Web"};
    ShadowCounts counts;
    counts.frames[FIZZ_DECISION_NONE][1 + 1] = 30;  // none -> Web: the rule change
    counts.frames[1 + 0][1 + 1] = 2;                // Fizz -> Web: a bug
    counts.frames[1 + 0][1 + 0] = 100;
    const auto t = compareDecisions(counts, base, cand, config::ExpectedCells(std::vector<config::ExpectedCell>{{"none", "Web"}}));
    CHECK(t.compared == 132);
    CHECK(t.disagreed == 32);
    CHECK(t.unexpected == 2);
    REQUIRE(t.cells.size() == 3);
    CHECK(t.cells[0].baseline == "none");
    CHECK(t.cells[0].expected);
    CHECK(t.cells[1].baseline == "Fizz");
    CHECK_FALSE(t.cells[1].expected);
    CHECK_FALSE(t.cells[2].expected);  // agreement is never "expected"
    // Without a list every disagreement is unexpected.
    CHECK(compareDecisions(counts, base, cand).unexpected == 32);
}

TEST_CASE("confidence: a rollout key in [0.5, 1), part of the rollout's identity", "[unit]") {
    CHECK(test::parseConfigText(kHead + "steps = [5]\n").interfaces[0].rollout->plan->confidence == 0.99);
    CHECK(test::parseConfigText(kHead + "steps = [5]\nconfidence = 0.999\n").interfaces[0].rollout->plan->confidence ==
          0.999);
    CHECK(test::configErrorOf(kHead + "steps = [5]\nconfidence = 1.0\n") ==
          "/etc/fizz/fizz.toml:6:14: interface.a.rollout.confidence: must be a confidence in [0.5, 1), e.g. 0.99 or "
          "0.999, got 1");
    CHECK(test::configErrorOf(kHead + "steps = [5]\nconfidence = 0.3\n") ==
          "/etc/fizz/fizz.toml:6:14: interface.a.rollout.confidence: must be a confidence in [0.5, 1), e.g. 0.99 or "
          "0.999, got 0.3");
    CHECK(test::configErrorOf(kHead + "percent = 5\nconfidence = 0.9\n") ==
          "/etc/fizz/fizz.toml:6:14: interface.a.rollout.confidence: only a progressive rollout has it: add steps = "
          "[...] (percentages the host moves through)");

    // A changed confidence, expected list or max_unexpected is another rollout: pinned progress
    // of the old one is not resumed.
    const auto t0 = RolloutClock::time_point{} + 1000s;
    const std::string shadow = kHead + "steps = [5, 50]\nshadow_seconds = 5\n";
    auto cfg = test::parseConfigText(shadow);
    RolloutBook book = RolloutBook{}.next(cfg.interfaces, t0);
    const auto progress = book.progress("a");
    for (const std::string& change :
         {std::string("confidence = 0.999\n"), std::string("expected = [\"none -> Web\"]\n"),
          std::string("max_unexpected = 0.01\n")}) {
        auto other = test::parseConfigText(shadow + change);
        RolloutBook fresh = RolloutBook{}.next(other.interfaces, t0);
        CHECK(fresh.resume("a", progress, t0 + 1s).empty());
    }
    RolloutBook same = RolloutBook{}.next(test::parseConfigText(shadow).interfaces, t0);
    CHECK_FALSE(same.resume("a", progress, t0 + 1s).empty());
}
