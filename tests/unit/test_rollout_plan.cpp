// Gated progressive rollouts without a kernel: the plan as the config states it (errors with
// file:line:col), the controller's decisions on made-up figures, and the book that keeps progress
// across reloads.
#include "config/config_loader.hpp"
#include "runtime/rollout/rollout_book.hpp"
#include "runtime/rollout/rollout_controller.hpp"
#include "util/error.hpp"
#include "support/config_text.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <fstream>
#include <iterator>

using namespace fizzhost;
using namespace fizzhost::runtime;
using namespace std::chrono_literals;

namespace {

const std::string kHead = "[interface.a]\nclassifier = \"fizzbuzz\"\n[interface.a.rollout]\ncandidate = \"fibonacci\"\n";

config::HostConfig parse(const std::string& text) { return test::parseConfigText(text); }
std::string errorOf(const std::string& text) { return test::configErrorOf(text); }

config::RolloutGates gates(std::optional<double> slowdown, std::optional<double> dropRate = std::nullopt,
                          std::optional<double> undecodableRate = std::nullopt) {
    config::RolloutGates g;
    g.maxSlowdown = slowdown;
    g.maxDropRate = dropRate;
    g.maxUndecodableRate = undecodableRate;
    return g;
}

config::RolloutPlan plan(std::vector<unsigned> steps, config::RolloutGates gates, bool promote = true) {
    config::RolloutPlan p;
    p.steps = std::move(steps);
    p.stepSeconds = 10;
    p.minSamples = 100;
    p.promote = promote;
    p.gates = gates;
    return p;
}

// Cumulative figures: the candidate emitted `emitted`, dropped `dropped`, refused `undecodable`.
RolloutSample sample(RolloutClock::time_point at, uint64_t emitted, uint64_t dropped = 0, uint64_t undecodable = 0,
                     uint32_t candidateId = 7) {
    RolloutSample s;
    s.at = at;
    s.baseline.programId = 3;
    s.baseline.emitted = emitted * 10;
    s.candidate.programId = candidateId;
    s.candidate.emitted = emitted;
    s.candidate.dropped = dropped;
    s.candidate.undecodable = undecodable;
    return s;
}

const GateReading& gate(const RolloutDecision& d, const std::string& name) {
    for (const auto& g : d.gates)
        if (g.name == name) return g;
    FAIL("no gate " << name);
    return d.gates.front();
}

}  // namespace

TEST_CASE("a progressive rollout table: steps, window, gates, promotion", "[unit]") {
    auto c = parse(kHead +
                   "steps = [1, 5, 25, 50, 100]\nstep_seconds = 30\nmin_samples = 500\npromote = true\n"
                   "max_slowdown = 1.2\nmax_drop_rate = 0.001\nmax_undecodable_rate = 0\n");
    const auto& r = *c.interfaces.at(0).rollout;
    REQUIRE(r.plan);
    CHECK(r.plan->steps == std::vector<unsigned>{1, 5, 25, 50, 100});
    CHECK(r.plan->stepSeconds == 30);
    CHECK(r.plan->minSamples == 500);
    CHECK(r.plan->promote);
    CHECK(r.plan->gates.maxSlowdown == 1.2);
    CHECK(r.plan->gates.maxDropRate == 0.001);
    CHECK(r.plan->gates.maxUndecodableRate == 0.0);
    CHECK_FALSE(r.plan->gates.maxDisagreement);
    CHECK(r.percent == 0);

    auto d = parse(kHead + "steps = [50]\n");
    CHECK(d.interfaces[0].rollout->plan->stepSeconds == 60);
    CHECK(d.interfaces[0].rollout->plan->minSamples == 100);
    CHECK_FALSE(d.interfaces[0].rollout->plan->promote);
    // A fixed split has no plan.
    CHECK_FALSE(parse(kHead + "percent = 10\n").interfaces[0].rollout->plan);
}

TEST_CASE("a progressive rollout table is refused with the place and the reason", "[unit]") {
    CHECK(errorOf(kHead + "steps = [1, 5, 5]\n") ==
          "/etc/fizz/fizz.toml:5:16: interface.a.rollout.steps[2]: 5 does not follow 5: steps must increase");
    CHECK(errorOf(kHead + "steps = [10, 5]\n") ==
          "/etc/fizz/fizz.toml:5:14: interface.a.rollout.steps[1]: 5 does not follow 10: steps must increase");
    CHECK(errorOf(kHead + "steps = [0, 5]\n") == "/etc/fizz/fizz.toml:5:10: interface.a.rollout.steps[0]: 0 is out of range 1..100");
    CHECK(errorOf(kHead + "steps = [5, 101]\n") ==
          "/etc/fizz/fizz.toml:5:13: interface.a.rollout.steps[1]: 101 is out of range 1..100");
    CHECK(errorOf(kHead + "steps = [5, \"25\"]\n") ==
          "/etc/fizz/fizz.toml:5:13: interface.a.rollout.steps[1]: expected an integer percentage, got a string");
    CHECK(errorOf(kHead + "steps = []\n") ==
          "/etc/fizz/fizz.toml:5:9: interface.a.rollout.steps: must list at least one percentage, e.g. [1, 5, 25, 50, 100]");
    CHECK(errorOf(kHead + "steps = 5\n") == "/etc/fizz/fizz.toml:5:9: interface.a.rollout.steps: expected an array, got an integer");
    CHECK(errorOf(kHead + "steps = [5]\npercent = 5\n") ==
          "/etc/fizz/fizz.toml:6:11: interface.a.rollout.percent: a rollout with steps starts at the first step and "
          "moves the split itself; remove percent (or steps, for a fixed split or shadow mode)");
    CHECK(errorOf(kHead + "steps = [5]\nmode = \"shadow\"\n") ==
          "/etc/fizz/fizz.toml:6:8: interface.a.rollout.mode: a rollout with steps starts at the first step and "
          "moves the split itself; remove mode (or steps, for a fixed split or shadow mode); shadow_seconds = N runs a "
          "shadow stage before the first step");
    CHECK(errorOf(kHead + "percent = 5\nmax_drop_rate = 0.1\n") ==
          "/etc/fizz/fizz.toml:6:17: interface.a.rollout.max_drop_rate: only a progressive rollout has it: add steps = "
          "[...] (percentages the host moves through)");
    CHECK(errorOf(kHead + "steps = [5]\nmax_drop_rate = 1.5\n") ==
          "/etc/fizz/fizz.toml:6:17: interface.a.rollout.max_drop_rate: must be a fraction in 0..1, got 1.5");
    CHECK(errorOf(kHead + "steps = [5]\nmax_undecodable_rate = -0.1\n") ==
          "/etc/fizz/fizz.toml:6:24: interface.a.rollout.max_undecodable_rate: must be a fraction in 0..1, got -0.1");
    CHECK(errorOf(kHead + "steps = [5]\nmax_slowdown = 0.9\n") ==
          "/etc/fizz/fizz.toml:6:16: interface.a.rollout.max_slowdown: must be a finite ratio >= 1.0, got 0.9");
    CHECK(errorOf(kHead + "steps = [5]\nmax_slowdown = nan\n") ==
          "/etc/fizz/fizz.toml:6:16: interface.a.rollout.max_slowdown: must be a finite ratio >= 1.0, got nan");
    CHECK(errorOf(kHead + "steps = [5]\nstep_seconds = 0\n") ==
          "/etc/fizz/fizz.toml:6:16: interface.a.rollout.step_seconds: 0 is out of range 1..604800");
    CHECK(errorOf(kHead + "steps = [5]\npromote = \"yes\"\n") ==
          "/etc/fizz/fizz.toml:6:11: interface.a.rollout.promote: expected a boolean, got a string");
    CHECK(errorOf(kHead + "steps = [5]\nmax_drop_rat = 0.1\n") ==
          "/etc/fizz/fizz.toml:6:1: interface.a.rollout.max_drop_rat: unknown key 'max_drop_rat' (did you mean "
          "'max_drop_rate'?)");
    CHECK(errorOf(kHead + "steps = [5]\nshadow_seconds = 0\n") ==
          "/etc/fizz/fizz.toml:6:18: interface.a.rollout.shadow_seconds: 0 is out of range 1..604800");
    CHECK(errorOf(kHead + "steps = [5]\nshadow_seconds = 1.5\n") ==
          "/etc/fizz/fizz.toml:6:18: interface.a.rollout.shadow_seconds: expected an integer, got a float");
    CHECK(errorOf(kHead + "steps = [5]\nshadow_seconds = 30\nmax_disagreement = 1.01\n") ==
          "/etc/fizz/fizz.toml:7:20: interface.a.rollout.max_disagreement: must be a fraction in 0..1, got 1.01");
    CHECK(errorOf(kHead + "steps = [5]\nshadow_seconds = 30\nmax_disagreement = \"1%\"\n") ==
          "/etc/fizz/fizz.toml:7:20: interface.a.rollout.max_disagreement: expected a float or an integer, got a string");
    // Disagreement is only measured where both variants see every frame: the shadow stage.
    CHECK(errorOf(kHead + "steps = [5]\nmax_disagreement = 0.01\n") ==
          "/etc/fizz/fizz.toml:6:20: interface.a.rollout.max_disagreement: applies to a shadow stage only, where the "
          "candidate runs on every frame beside the baseline: add shadow_seconds = N (the stage's length, before the "
          "first step) or remove it");
    CHECK(errorOf(kHead + "steps = [5]\nshadow_events = true\n") ==
          "/etc/fizz/fizz.toml:6:17: interface.a.rollout.shadow_events: applies to a shadow stage only, where the "
          "candidate runs on every frame beside the baseline: add shadow_seconds = N (the stage's length, before the "
          "first step) or remove it");
    CHECK(errorOf(kHead + "percent = 5\nshadow_seconds = 30\n") ==
          "/etc/fizz/fizz.toml:6:18: interface.a.rollout.shadow_seconds: only a progressive rollout has it: add steps = "
          "[...] (percentages the host moves through)");
    // Neither percent nor steps: the fixed split's key is what is missing.
    CHECK(errorOf(kHead) == "/etc/fizz/fizz.toml:3:1: interface.a.rollout: missing required key 'percent'");
}

TEST_CASE("rollout controller: advances when every gate held over the window, then promotes", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({5, 50, 100}, gates(std::nullopt, 0.01, 0.01)), t0);
    CHECK(c.started().kind == DecisionKind::Start);
    CHECK(c.started().to == 5);
    CHECK(c.percent() == 5);
    CHECK_FALSE(c.tick(sample(t0, 0)));  // opens the window
    CHECK_FALSE(c.tick(sample(t0 + 5s, 5000)));  // healthy, but the window is not over
    auto d = c.tick(sample(t0 + 10s, 10000, 1, 2));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Advance);
    CHECK(d->from == 5);
    CHECK(d->to == 50);
    CHECK(d->windowSeconds == Approx(10.0));
    // Rates over the window: 1 dropped of 10001 produced, 2 undecodable of 10000 emitted.
    CHECK(gate(*d, "max_drop_rate").figure == Approx(1.0 / 10001));
    CHECK(gate(*d, "max_drop_rate").samples == 10001);
    CHECK(gate(*d, "max_undecodable_rate").figure == Approx(0.0002));
    CHECK(c.percent() == 50);

    // The next window counts from the advance, not from the start: the old window's figures are
    // not in it.
    CHECK_FALSE(c.tick(sample(t0 + 15s, 10500, 1, 2)));
    d = c.tick(sample(t0 + 20s, 20000, 1, 2));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Advance);
    CHECK(gate(*d, "max_drop_rate").figure == Approx(0.0));
    CHECK(gate(*d, "max_drop_rate").samples == 10000);
    CHECK(c.percent() == 100);
    d = c.tick(sample(t0 + 30s, 30000, 1, 2));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Promote);
    CHECK(c.stage() == RolloutStage::Promoted);
    CHECK_FALSE(c.tick(sample(t0 + 40s, 9000, 9000, 9000)));  // done: nothing more to decide
}

TEST_CASE("rollout controller: a failing gate rolls back at once, mid-window, and stays back", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({5, 50, 100}, gates(std::nullopt, std::nullopt, 0.01)), t0);
    c.tick(sample(t0, 1000, 0, 0));
    // 50 of 99 messages undecodable: not judged yet (below min_samples), not failed either.
    CHECK_FALSE(c.tick(sample(t0 + 1s, 1099, 0, 50)));
    auto d = c.tick(sample(t0 + 2s, 1200, 0, 100));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Rollback);
    CHECK(d->from == 5);
    CHECK(d->to == 0);
    CHECK(gate(*d, "max_undecodable_rate").verdict == GateVerdict::Fail);
    CHECK(gate(*d, "max_undecodable_rate").figure == Approx(0.5));
    CHECK(c.stage() == RolloutStage::RolledBack);
    CHECK(c.percent() == 0);
    CHECK_THAT(c.reason(), Catch::Contains("rolled back at 5%: max_undecodable_rate 0.5 [") &&
                               Catch::Contains("] > 0.01 at 99.98% (200 messages)"));
    CHECK_FALSE(c.tick(sample(t0 + 30s, 5000)));
    CHECK(c.status(t0 + 30s).verdict ==
          "rolled back: the baseline runs alone until the rollout table changes");
}

TEST_CASE("rollout controller: too little data or an unavailable figure holds the step, then it goes on", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    SECTION("too little data: the window stays open and is judged again a step later") {
        RolloutController c(plan({1, 100}, gates(std::nullopt, 0.01)), t0);
        c.tick(sample(t0, 0));
        auto d = c.tick(sample(t0 + 10s, 40));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Hold);
        CHECK(gate(*d, "max_drop_rate").verdict == GateVerdict::TooLittleData);
        CHECK_THAT(d->reason, Catch::Contains("too little data, 40 of 100 messages"));
        CHECK(c.percent() == 1);
        CHECK(c.status(t0 + 11s).verdict == "holding");
        CHECK_FALSE(c.tick(sample(t0 + 15s, 100)));  // not judged again before the next step_seconds
        d = c.tick(sample(t0 + 20s, 2000));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Advance);
        CHECK(gate(*d, "max_drop_rate").samples == 2000);  // the held window kept accumulating
        CHECK(d->windowSeconds == Approx(20.0));
    }
    SECTION("a figure nothing measures yet: unavailable, the step holds however long it runs") {
        RolloutController c(plan({1, 100}, gates(1.5, 0.01)), t0);
        c.tick(sample(t0, 0));
        for (int i = 1; i <= 3; ++i) {
            auto d = c.tick(sample(t0 + i * 10s, uint64_t(i) * 10000));
            REQUIRE(d);
            CHECK(d->kind == DecisionKind::Hold);
            CHECK(gate(*d, "max_slowdown").verdict == GateVerdict::Unavailable);
            CHECK(gate(*d, "max_drop_rate").verdict == GateVerdict::Pass);
            CHECK_THAT(d->reason, Catch::Contains("max_slowdown unavailable"));
        }
        CHECK(c.percent() == 1);
    }
    // The slowdown gate on the dispatcher's timed runs: test_rollout_gates.cpp.
}

TEST_CASE("rollout controller: a new candidate instance opens a fresh window", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({5, 100}, gates(std::nullopt, 0.01)), t0);
    c.tick(sample(t0, 0, 0, 0, 7));
    // A different instance whose own counters would read as 100% dropped against the old ones'.
    CHECK_FALSE(c.tick(sample(t0 + 10s, 0, 500, 0, 8)));
    CHECK(c.stage() == RolloutStage::Step);
    auto d = c.tick(sample(t0 + 20s, 5000, 500, 0, 8));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Advance);
}

TEST_CASE("rollout controller: a step carried out late (its action failed, then succeeded) is judged from then on",
          "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({5, 50, 100}, gates(std::nullopt, 0.01)), t0);
    c.tick(sample(t0, 0));
    REQUIRE(c.tick(sample(t0 + 10s, 5000))->to == 50);  // advance to 50% ...
    c.actionFailed("injected");                          // ... whose map write failed
    CHECK(c.status(t0 + 11s).actionError == "injected");
    // 30 s later it is carried out. The previous percent ran meanwhile, and dropped: none of that
    // is the new step's.
    c.actionCarriedOut();
    CHECK_FALSE(c.status(t0 + 40s).actionError);
    CHECK_FALSE(c.tick(sample(t0 + 40s, 40000, 900)));  // opens the window
    CHECK_FALSE(c.tick(sample(t0 + 45s, 45000, 900)));  // not over yet: judged from 40 s
    auto d = c.tick(sample(t0 + 50s, 50000, 900));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Advance);
    CHECK(d->windowSeconds == Approx(10.0));
    CHECK(gate(*d, "max_drop_rate").figure == Approx(0.0));
}

TEST_CASE("rollout controller: the last step without promotion completes and keeps the split", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({30}, {}, false), t0);
    c.tick(sample(t0, 0));
    auto d = c.tick(sample(t0 + 10s, 0));
    REQUIRE(d);
    CHECK(d->kind == DecisionKind::Complete);
    CHECK(c.percent() == 30);
}

TEST_CASE("rollout decisions as records: one JSON object, one text line, one log line", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    RolloutController c(plan({5, 25}, gates(std::nullopt, 0.01)), t0);
    c.tick(sample(t0, 0));
    auto d = c.tick(sample(t0 + 10s, 10000, 2));
    REQUIRE(d);
    const auto rec = decisionRecord("eth1", *d);
    const auto parsed = nlohmann::json::parse(rec.dump());
    CHECK(parsed["rollout"]["interface"] == "eth1");
    CHECK(parsed["rollout"]["decision"] == "advance");
    CHECK(parsed["rollout"]["from"] == 5);
    CHECK(parsed["rollout"]["to"] == 25);
    CHECK(parsed["rollout"]["figures"]["max_drop_rate"]["figure"].get<double>() == Approx(2.0 / 10002));
    CHECK(parsed["rollout"]["figures"]["max_drop_rate"]["lower"].get<double>() < 2.0 / 10002);
    CHECK(parsed["rollout"]["figures"]["max_drop_rate"]["upper"].get<double>() <= 0.01);
    CHECK(parsed["rollout"]["figures"]["max_drop_rate"]["confidence"].get<double>() == Approx(1 - 0.01 / 50));
    // RFC 3339, UTC, microseconds.
    const std::string time = parsed["rollout"]["time"];
    CHECK(time.size() == std::string("2026-12-07T18:30:01.123456Z").size());
    CHECK(time[10] == 'T');
    CHECK(time.back() == 'Z');
    CHECK(parsed["rollout"]["figures"]["max_drop_rate"]["limit"] == 0.01);
    CHECK(parsed["rollout"]["figures"]["max_drop_rate"]["verdict"] == "pass");
    CHECK_THAT(decisionText("eth1", *d), Catch::StartsWith("eth1 rollout advance 5 -> 25 max_drop_rate=0.0002[") &&
                                             Catch::Contains("]/0.01:pass time=" + time));
    CHECK_THAT(describe(*d), Catch::StartsWith("advance 5% -> 25%: every gate held at 5% over 10.0 s"));
    const auto st = c.status(t0 + 12s);
    CHECK(st.step == 2);
    CHECK(st.percent == 25);
    CHECK(st.secondsInStep == Approx(2.0));
    CHECK(st.gates[0].name == "max_drop_rate");
    CHECK(st.gates[0].limit == 0.01);
}

TEST_CASE("rollout book: an unchanged table keeps its progress, a changed one starts again", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    auto cfg = parse(kHead + "steps = [5, 50]\nstep_seconds = 10\nmin_samples = 1\nmax_drop_rate = 0.5\n");
    RolloutBook book = RolloutBook{}.next(cfg.interfaces, t0);
    REQUIRE(book.find("a"));
    CHECK(book.find("a")->started);
    CHECK(book.effective(cfg.interfaces[0]).rollout->percent == 5);
    auto& ctl = *book.find("a")->controller;
    ctl.tick(sample(t0, 0));
    REQUIRE(ctl.tick(sample(t0 + 10s, 100))->kind == DecisionKind::Advance);
    CHECK(book.effective(cfg.interfaces[0]).rollout->percent == 50);

    // The same file again (SIGHUP): same controller, same step.
    RolloutBook same = book.next(parse(kHead + "steps = [5, 50]\nstep_seconds = 10\nmin_samples = 1\nmax_drop_rate = 0.5\n").interfaces, t0 + 11s);
    CHECK(same.find("a")->controller == book.find("a")->controller);
    CHECK_FALSE(same.find("a")->started);
    CHECK(same.effective(cfg.interfaces[0]).rollout->percent == 50);
    // Another limit: a new plan from its first step.
    auto changed = parse(kHead + "steps = [5, 50]\nstep_seconds = 10\nmin_samples = 1\nmax_drop_rate = 0.4\n");
    RolloutBook fresh = book.next(changed.interfaces, t0 + 11s);
    CHECK(fresh.find("a")->started);
    CHECK(fresh.effective(changed.interfaces[0]).rollout->percent == 5);

    // Rolled back: the baseline alone; promoted: the candidate as the classifier.
    REQUIRE(ctl.tick(sample(t0 + 12s, 200, 1000))->kind == DecisionKind::Rollback);
    auto back = book.effective(cfg.interfaces[0]);
    CHECK_FALSE(back.rollout);
    CHECK(back.classifier == "fizzbuzz");
    auto p = parse(kHead + "steps = [5]\nstep_seconds = 10\nmin_samples = 1\npromote = true\n");
    RolloutBook promo = RolloutBook{}.next(p.interfaces, t0);
    promo.find("a")->controller->tick(sample(t0, 0));
    REQUIRE(promo.find("a")->controller->tick(sample(t0 + 10s, 10))->kind == DecisionKind::Promote);
    auto promoted = promo.effective(p.interfaces[0]);
    CHECK_FALSE(promoted.rollout);
    CHECK(promoted.classifier == "fibonacci");
    CHECK(promoted.classifierAt.line == p.interfaces[0].candidateAt.line);
    // No plan: the interface as configured.
    auto fixed = parse(kHead + "percent = 20\n");
    CHECK(promo.next(fixed.interfaces, t0).entries().empty());
}

TEST_CASE("the shipped progressive rollout example loads", "[unit]") {
    const auto file = std::filesystem::path(FIZZHOST_SOURCE_DIR) / "config/progressive.example.toml";
    std::ifstream in(file);
    REQUIRE(in);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto cfg = config::parseConfig(text, file, "/plugins");
    const auto& plan = cfg.interfaces.at(0).rollout->plan;
    REQUIRE(plan);
    CHECK(plan->steps == std::vector<unsigned>{1, 5, 25, 50, 100});
    CHECK(plan->promote);
    CHECK(plan->shadowSeconds == 600);  // the whole rollout: a shadow stage first
    CHECK(plan->gates.maxDisagreement == 0.0001);
    CHECK(cfg.interfaces.at(0).classifier == "fizzbuzz@2.0.0");
    CHECK(cfg.interfaces.at(0).rollout->candidate == "fizzbuzz@2.1.0");
}

TEST_CASE("a progressive rollout table with a shadow stage: its length, the disagreement gate, shadow_events", "[unit]") {
    auto c = parse(kHead + "steps = [10, 100]\nshadow_seconds = 30\nmax_disagreement = 0.001\nshadow_events = true\n");
    const auto& r = *c.interfaces.at(0).rollout;
    REQUIRE(r.plan);
    CHECK(r.plan->shadowSeconds == 30);
    CHECK(r.plan->gates.maxDisagreement == 0.001);
    CHECK(r.shadowEvents);
    CHECK(r.mode == config::RolloutMode::Split);  // the book says which mode each stage runs in
    auto d = parse(kHead + "steps = [10]\nshadow_seconds = 5\n");
    CHECK(d.interfaces[0].rollout->plan->shadowSeconds == 5);
    CHECK_FALSE(d.interfaces[0].rollout->plan->gates.maxDisagreement);
    CHECK_FALSE(d.interfaces[0].rollout->shadowEvents);
    CHECK(parse(kHead + "steps = [10]\n").interfaces[0].rollout->plan->shadowSeconds == 0);
}

TEST_CASE("rollout book: the shadow stage runs shadow mode, the steps after it split mode, a rollback the baseline "
          "alone; an unchanged table keeps the stage",
          "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    const std::string table = kHead + "steps = [10, 50]\nstep_seconds = 10\nshadow_seconds = 5\nmin_samples = 1\n"
                                      "max_disagreement = 0.1\nshadow_events = true\n";
    auto cfg = parse(table);
    RolloutBook book = RolloutBook{}.next(cfg.interfaces, t0);
    auto& ctl = *book.find("a")->controller;
    CHECK(ctl.stage() == RolloutStage::Shadow);
    auto shadow = book.effective(cfg.interfaces[0]);
    REQUIRE(shadow.rollout);
    CHECK(shadow.rollout->mode == config::RolloutMode::Shadow);
    CHECK(shadow.rollout->percent == 0);
    CHECK(shadow.rollout->shadowEvents);
    CHECK(shadow.classifier == "fizzbuzz");
    CHECK(ctl.status(t0).stage == runtime::RolloutStage::Shadow);
    CHECK(ctl.status(t0).step == 0);

    // SIGHUP with the same table: the same controller, still in the shadow stage.
    RolloutBook same = book.next(parse(table).interfaces, t0 + 2s);
    CHECK(same.find("a")->controller == book.find("a")->controller);
    CHECK(same.effective(cfg.interfaces[0]).rollout->mode == config::RolloutMode::Shadow);

    RolloutSample s = sample(t0, 0);
    s.compared = 0;
    s.disagreed = 0;
    ctl.tick(s);
    s = sample(t0 + 5s, 100);
    s.compared = 1000;
    s.disagreed = 1;
    auto d = ctl.tick(s);
    REQUIRE(d);
    REQUIRE(d->kind == DecisionKind::Advance);
    CHECK(d->fromStage == RolloutStage::Shadow);
    CHECK(d->toStage == RolloutStage::Step);
    CHECK_THAT(describe(*d), Catch::StartsWith("advance shadow -> 10%: every gate held in the shadow stage over 5.0 s"));
    CHECK_THAT(decisionText("a", *d), Catch::StartsWith("a rollout advance shadow -> 10 max_disagreement=0.001[") &&
                                          Catch::Contains("]/0.1:pass time="));
    CHECK(decisionRecord("a", *d)["rollout"]["from_stage"] == "shadow");
    CHECK(decisionRecord("a", *d)["rollout"]["to_stage"] == "step");
    auto split = book.effective(cfg.interfaces[0]);
    CHECK(split.rollout->mode == config::RolloutMode::Split);
    CHECK(split.rollout->percent == 10);
    CHECK_FALSE(split.rollout->shadowEvents);
    CHECK(ctl.status(t0 + 5s).step == 1);

    // Rolled back from the shadow stage: the baseline alone, and status says it never split.
    RolloutBook other = RolloutBook{}.next(cfg.interfaces, t0);
    auto& back = *other.find("a")->controller;
    s = sample(t0, 0);
    s.compared = 0;
    s.disagreed = 0;
    back.tick(s);
    s = sample(t0 + 1s, 100);
    s.compared = 100;
    s.disagreed = 60;  // the whole interval past 0.1
    d = back.tick(s);
    REQUIRE(d);
    REQUIRE(d->kind == DecisionKind::Rollback);
    CHECK(d->toStage == RolloutStage::RolledBack);
    CHECK_THAT(describe(*d), Catch::StartsWith("rollback shadow -> 0%: rolled back in the shadow stage: "
                                               "max_disagreement 0.6 [0.425, 0.7527] > 0.1 at 99.96% (100 frames) over "
                                               "1.0 s"));
    CHECK(decisionRecord("a", *d)["rollout"]["figures"]["max_disagreement"]["figure"] == Approx(0.6));
    CHECK_FALSE(other.effective(cfg.interfaces[0]).rollout);
    CHECK(back.status(t0 + 2s).step == 0);
    // A start into the shadow stage, as the log and the events stream give it.
    const auto start = RolloutBook{}.next(cfg.interfaces, t0).find("a")->controller->started();
    CHECK_FALSE(start.fromStage);
    CHECK_THAT(decisionText("a", start),
               Catch::StartsWith("a rollout start 0 -> shadow max_disagreement=-[-,-]/0.1:unavailable time="));
    CHECK(decisionRecord("a", start)["rollout"]["from_stage"].is_null());
    CHECK(decisionRecord("a", start)["rollout"]["to_stage"] == "shadow");
}

TEST_CASE("rollout controller: a shadow stage judges disagreement on every frame before the first split step", "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    auto withShadow = [&](double maxDisagreement) {
        auto p = plan({10, 100}, gates(std::nullopt, 0.01));
        p.shadowSeconds = 5;
        p.gates.maxDisagreement = maxDisagreement;
        return p;
    };
    auto compared = [&](RolloutClock::time_point at, uint64_t frames, uint64_t disagreed, uint32_t candidateId = 7) {
        RolloutSample s = sample(at, frames / 2, 0, 0, candidateId);
        s.compared = frames;
        s.disagreed = disagreed;
        return s;
    };
    SECTION("agreement: on to the first split step, where disagreement is no gate any more") {
        RolloutController c(withShadow(0.01), t0);
        CHECK(c.stage() == RolloutStage::Shadow);
        CHECK(c.percent() == 0);
        CHECK(c.started().to == 0);
        CHECK_THAT(c.started().reason, Catch::Contains("a shadow stage of 5 s, then 2 step(s) of 10 s"));
        c.tick(compared(t0, 0, 0));
        CHECK_FALSE(c.tick(compared(t0 + 4s, 8000, 1)));  // shadow_seconds, not step_seconds
        auto d = c.tick(compared(t0 + 5s, 10000, 2));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Advance);
        CHECK(d->from == 0);
        CHECK(d->to == 10);
        CHECK(gate(*d, "max_disagreement").figure == Approx(0.0002));
        CHECK(gate(*d, "max_disagreement").unit == "frames");
        CHECK(c.stage() == RolloutStage::Step);
        // A new dispatcher in split mode: new instances, a fresh window, no disagreement gate.
        c.tick(sample(t0 + 6s, 0, 0, 0, 8));
        d = c.tick(sample(t0 + 16s, 5000, 0, 0, 8));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Advance);
        REQUIRE(d->gates.size() == 1);
        CHECK(d->gates[0].name == "max_drop_rate");
    }
    SECTION("disagreement over the limit: rolled back from the shadow stage") {
        RolloutController c(withShadow(0.01), t0);
        c.tick(compared(t0, 0, 0));
        auto d = c.tick(compared(t0 + 1s, 1000, 40));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Rollback);
        CHECK(d->from == 0);
        CHECK(gate(*d, "max_disagreement").figure == Approx(0.04));
        CHECK(c.stage() == RolloutStage::RolledBack);
    }
    SECTION("no comparison figures: unavailable, the shadow stage holds") {
        RolloutController c(withShadow(0.01), t0);
        c.tick(sample(t0, 0));
        auto d = c.tick(sample(t0 + 5s, 1000));
        REQUIRE(d);
        CHECK(d->kind == DecisionKind::Hold);
        CHECK(gate(*d, "max_disagreement").verdict == GateVerdict::Unavailable);
        CHECK(c.stage() == RolloutStage::Shadow);
    }
}

TEST_CASE("cost_sample_period: the dispatcher's timing per rollout, 0 for none; refused where a gate needs it",
          "[unit]") {
    auto read = [](const std::string& text) {
        return fizzhost::config::parseConfig(kHead + text, "/etc/fizz/fizz.toml", "/p").interfaces.at(0).rollout;
    };
    CHECK_FALSE(read("percent = 10\n")->costSamplePeriod);  // the dispatcher's default
    CHECK(read("percent = 10\ncost_sample_period = 0\n")->costSamplePeriod == 0u);
    CHECK(read("percent = 10\ncost_sample_period = 1024\n")->costSamplePeriod == 1024u);
    CHECK(read("steps = [5]\ncost_sample_period = 0\nmax_drop_rate = 0.01\n")->costSamplePeriod == 0u);
    CHECK(errorOf(kHead + "percent = 10\ncost_sample_period = 48\n") ==
          "/etc/fizz/fizz.toml:6:22: interface.a.rollout.cost_sample_period: must be 0 (no per-variant cost) or a "
          "power of two (1 frame in that many is timed), got 48");
    CHECK(errorOf(kHead + "percent = 10\ncost_sample_period = 131072\n") ==
          "/etc/fizz/fizz.toml:6:22: interface.a.rollout.cost_sample_period: 131072 is out of range 0..65536");
    CHECK(errorOf(kHead + "steps = [5]\nmax_slowdown = 1.2\ncost_sample_period = 0\n") ==
          "/etc/fizz/fizz.toml:7:22: interface.a.rollout.cost_sample_period: 0 turns off the per-variant cost that "
          "max_slowdown judges; give a period (e.g. 64) or remove max_slowdown");
}

TEST_CASE("rollout book: a successor resumes the plan where the pinned progress left it, for the same table only",
          "[unit]") {
    const auto t0 = RolloutClock::time_point{} + 1000s;
    const std::string table = "steps = [5, 50, 100]\nstep_seconds = 10\nmin_samples = 1\nmax_drop_rate = 0.5\n";
    auto cfg = parse(kHead + table);
    RolloutBook book = RolloutBook{}.next(cfg.interfaces, t0);
    auto& ctl = *book.find("a")->controller;
    ctl.tick(sample(t0, 0));
    REQUIRE(ctl.tick(sample(t0 + 10s, 100))->kind == DecisionKind::Advance);
    const nlohmann::json progress = book.progress("a");
    CHECK(progress["stage"] == "step");
    CHECK(progress["step"] == 1);
    CHECK(book.progress("nosuch").is_null());

    // A new host (a fresh book from the same file) resumes at 50%, judged afresh from its start.
    RolloutBook next = RolloutBook{}.next(cfg.interfaces, t0 + 60s);
    CHECK(next.resume("a", progress, t0 + 60s) == "rollout resumed where the previous host left it: step 2 (50%)");
    CHECK(next.find("a")->resumed);
    CHECK_FALSE(next.find("a")->started);
    CHECK(next.effective(cfg.interfaces[0]).rollout->percent == 50);
    auto& resumed = *next.find("a")->controller;
    CHECK_FALSE(resumed.tick(sample(t0 + 60s, 0)));  // the window opens
    CHECK_FALSE(resumed.tick(sample(t0 + 65s, 50)));
    REQUIRE(resumed.tick(sample(t0 + 70s, 100))->to == 100);

    // Another table, or progress that does not fit it: the plan starts from its beginning.
    auto other = parse(kHead + "steps = [5, 50, 100]\nstep_seconds = 10\nmin_samples = 1\nmax_drop_rate = 0.4\n");
    RolloutBook changed = RolloutBook{}.next(other.interfaces, t0 + 60s);
    CHECK(changed.resume("a", progress, t0 + 60s).empty());
    CHECK(changed.effective(other.interfaces[0]).rollout->percent == 5);
    nlohmann::json bad = progress;
    bad["step"] = 7;
    RolloutBook b2 = RolloutBook{}.next(cfg.interfaces, t0);
    CHECK(b2.resume("a", bad, t0).empty());
    CHECK(b2.resume("a", nullptr, t0).empty());
    CHECK(b2.effective(cfg.interfaces[0]).rollout->percent == 5);

    // A promoted plan stays promoted.
    auto cfgPromote = parse(kHead + "steps = [5]\nstep_seconds = 10\nmin_samples = 1\npromote = true\n");
    RolloutBook promo = RolloutBook{}.next(cfgPromote.interfaces, t0);
    promo.find("a")->controller->tick(sample(t0, 0));
    REQUIRE(promo.find("a")->controller->tick(sample(t0 + 10s, 10))->kind == DecisionKind::Promote);
    RolloutBook after = RolloutBook{}.next(cfgPromote.interfaces, t0 + 60s);
    CHECK_THAT(after.resume("a", promo.progress("a"), t0 + 60s), Catch::Matchers::Contains("promoted"));
    CHECK(after.effective(cfgPromote.interfaces[0]).classifier == "fibonacci");
    CHECK_FALSE(after.effective(cfgPromote.interfaces[0]).rollout);
}
