// Shadow mode and per-variant cost without a kernel: the rollout table's mode and shadow_events
// keys, the confusion table by kind name, its status text and metrics, the cost line.
#include "cli/status_text.hpp"
#include "config/config_loader.hpp"
#include "runtime/rollout/shadow_comparison.hpp"
#include "runtime/status/status_builder.hpp"
#include "runtime/status/status_json.hpp"
#include "service/status_view.hpp"
#include "util/error.hpp"
#include "support/config_text.hpp"

#include <catch2/catch.hpp>
#include <fizz/dispatcher.h>

#include <fstream>
#include <iterator>
#include <map>
#include <optional>

using namespace fizzhost;
using Catch::Matchers::Contains;

namespace {

// Interface "a" classifying with fibonacci, its rollout table holding `rollout`.
config::HostConfig parse(const std::string& rollout) {
    return test::parseConfigText(test::rolloutTable("a", "fibonacci", rollout));
}
std::string errorOf(const std::string& rollout) { return test::configErrorOf(test::rolloutTable("a", "fibonacci", rollout)); }

}  // namespace

namespace {

// A status with one attached interface in shadow mode.
runtime::HostStatus statusWithShadow(runtime::ShadowStatus shadow) {
    runtime::HostStatus s;
    s.interfaces.emplace_back();
    s.interfaces[0].name = "eth1";
    s.interfaces[0].shadow = std::move(shadow);
    return s;
}

}  // namespace

TEST_CASE("rollout mode: split by default, shadow without a percent, shadow_events only in shadow mode", "[unit]") {
    auto split = parse("candidate = \"fibonacci-naive\"\npercent = 10\n");
    CHECK(split.interfaces[0].rollout->mode == config::RolloutMode::Split);
    CHECK(split.interfaces[0].rollout->percent == 10);
    CHECK_FALSE(split.interfaces[0].rollout->shadowEvents);
    CHECK(parse("candidate = \"x\"\nmode = \"split\"\npercent = 5\n").interfaces[0].rollout->percent == 5);

    auto shadow = parse("candidate = \"fibonacci-naive\"\nmode = \"shadow\"\n");
    CHECK(shadow.interfaces[0].rollout->mode == config::RolloutMode::Shadow);
    CHECK_FALSE(shadow.interfaces[0].rollout->shadowEvents);
    CHECK(parse("candidate = \"x\"\nmode = \"shadow\"\nshadow_events = true\n").interfaces[0].rollout->shadowEvents);
    CHECK(config::toString(config::RolloutMode::Shadow) == "shadow");

    CHECK(errorOf("candidate = \"x\"\nmode = \"shadow\"\npercent = 10\n") ==
          "/etc/fizz/fizz.toml:6:11: interface.a.rollout.percent: has no meaning with mode = \"shadow\", which runs "
          "the candidate on every frame next to the baseline; remove it");
    CHECK(errorOf("candidate = \"x\"\npercent = 10\nshadow_events = true\n") ==
          "/etc/fizz/fizz.toml:6:17: interface.a.rollout.shadow_events: applies to mode = \"shadow\" only (a split "
          "rollout always writes both variants' events)");
    CHECK_THAT(errorOf("candidate = \"x\"\nmode = \"mirror\"\n"),
               Contains("/etc/fizz/fizz.toml:5:8: interface.a.rollout.mode:") && Contains("\"split\"") &&
                   Contains("\"shadow\""));
    CHECK(errorOf("candidate = \"x\"\nmode = \"split\"\n") ==
          "/etc/fizz/fizz.toml:3:1: interface.a.rollout: missing required key 'percent'");
    CHECK_THAT(errorOf("candidate = \"x\"\nmode = \"shadow\"\nshadow_events = 1\n"),
               Contains("/etc/fizz/fizz.toml:6:17: interface.a.rollout.shadow_events:"));
}

TEST_CASE("config/shadow.example.toml is a valid shadow-mode config", "[unit]") {
    std::ifstream in(std::string(FIZZHOST_SOURCE_DIR) + "/config/shadow.example.toml");
    REQUIRE(in.good());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto cfg = config::parseConfig(text, "/etc/fizzhost/shadow.toml", "/usr/lib/fizzhost/plugins");
    REQUIRE(cfg.interfaces.size() == 1);
    REQUIRE(cfg.interfaces[0].rollout);
    CHECK(cfg.interfaces[0].rollout->mode == config::RolloutMode::Shadow);
    CHECK(cfg.interfaces[0].rollout->candidate == "fibonacci-naive");
}

TEST_CASE("the confusion table names decisions by each plugin's kinds and judges agreement by name", "[unit]") {
    // Kind lists in different orders: Fizz is index 1 for one and 0 for the other.
    const std::vector<std::string> base = {"Fibonacci", "Fizz"}, cand = {"Fizz", "Fibonacci", "Buzz"};
    runtime::ShadowCounts counts;
    counts.frames[1 + 1][1 + 0] = 40;  // Fizz / Fizz: agree
    counts.frames[1 + 0][1 + 0] = 1;   // Fibonacci / Fizz
    counts.examples[1 + 0][1 + 0] = {0xC6120000};
    counts.frames[FIZZ_DECISION_NONE][1 + 1] = 3;  // none / Fibonacci
    counts.examples[FIZZ_DECISION_NONE][1 + 1] = {0xC61200F1, 0xC61200F5, 0xC61200F7};
    counts.frames[FIZZ_DECISION_NONE][FIZZ_DECISION_NONE] = 100;
    counts.frames[1 + 5][FIZZ_DECISION_OTHER] = 2;  // kinds neither declares: never agreement
    const auto t = runtime::compareDecisions(counts, base, cand);
    CHECK(t.compared == 146);
    CHECK(t.disagreed == 6);
    REQUIRE(t.cells.size() == 5);
    // Disagreeing first, most frames first.
    CHECK(t.cells[0].baseline == "none");
    CHECK(t.cells[0].candidate == "Fibonacci");
    CHECK(t.cells[0].examples.size() == 3);
    CHECK(t.cells[1].baseline == "kind 5");
    CHECK(t.cells[1].candidate == "kind >= 16");
    CHECK_FALSE(t.cells[1].agree);
    CHECK(t.cells[2].baseline == "Fibonacci");
    CHECK(t.cells[2].candidate == "Fizz");
    CHECK(t.cells[3].agree);
    CHECK(t.cells[3].frames == 100);
    CHECK(t.cells[4].baseline == "Fizz");
    CHECK(t.cells[4].candidate == "Fizz");
    CHECK(t.cells[4].agree);

    const auto j = runtime::toJson(statusWithShadow(runtime::shadowStatusOf(t, false)))["interfaces"][0]["shadow"];
    CHECK(j["compared"] == 146);
    CHECK(j["disagreed"] == 6);
    CHECK(j["cells"][0]["examples"] == nlohmann::json({"198.18.0.241", "198.18.0.245", "198.18.0.247"}));
    CHECK(j["cells"][2]["examples"] == nlohmann::json({"198.18.0.0"}));
    CHECK(j["cells"][4]["agree"] == true);
    CHECK(j["events"] == false);
}

namespace {

const nlohmann::json kShadowStatusJson = nlohmann::json::parse(R"({
  "run_time_stats": false,
  "interfaces": [
    {"name": "eth1", "mode": "generic", "link_id": 8, "program_id": 81, "ns_per_run": 100.0, "runs": 400,
     "shadow": {"compared": 256, "disagreed": 6, "events": false, "cells": [
        {"baseline": "none", "candidate": "Fibonacci", "frames": 4, "agree": false,
         "examples": ["198.18.0.241", "198.18.0.245"]},
        {"baseline": "Fizz", "candidate": "Fizz", "frames": 80, "agree": true, "examples": []}]},
     "variants": [
       {"variant": "baseline", "plugin": "fibonacci", "version": "3.0.0", "program_id": 80, "packets": 256,
        "emitted": 3, "dropped": 0, "delivered": 3, "undecodable": 0, "withheld": 0, "kinds": {"Fizz": 3},
        "ns_per_run": 40.0, "runs": 4, "runs_timed_1_in": 64},
       {"variant": "shadow", "plugin": "fibonacci-naive", "version": "3.0.2", "program_id": 82, "packets": 256,
        "emitted": 3, "dropped": 0, "delivered": 0, "undecodable": 0, "withheld": 3, "kinds": {"Fizz": 3},
        "ns_per_run": 120.0, "runs": 4, "runs_timed_1_in": 64}]}
  ]})");
const runtime::HostStatus kShadowStatus = runtime::hostStatusFromJson(kShadowStatusJson);

// One interface of a status document, read as the status client reads it.
runtime::InterfaceStatus interfaceOf(const nlohmann::json& ifc) {
    return runtime::hostStatusFromJson({{"interfaces", {ifc}}}).interfaces.at(0);
}

std::optional<double> sample(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
                             const std::map<std::string, std::string>& labels) {
    for (const auto& f : families) {
        if (f.name != name) continue;
        for (const auto& m : f.metric) {
            std::map<std::string, std::string> got;
            for (const auto& l : m.label) got[l.name] = l.value;
            if (got == labels) return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        }
    }
    return std::nullopt;
}

}  // namespace

TEST_CASE("behind the dispatcher each variant's timed runs become its run metrics, next to the dispatcher's, and "
          "the shadow comparison its own counters",
          "[unit]") {
    auto f = service::statusMetrics(kShadowStatus);
    const std::map<std::string, std::string> base = {
        {"interface", "eth1"}, {"variant", "baseline"}, {"plugin", "fibonacci"}, {"version", "3.0.0"}};
    const std::map<std::string, std::string> shadow = {
        {"interface", "eth1"}, {"variant", "shadow"}, {"plugin", "fibonacci-naive"}, {"version", "3.0.2"}};
    // No kernel statistics needed: the dispatcher timed them.
    CHECK(sample(f, "fizzhost_program_runs_total", base) == 4);
    CHECK(sample(f, "fizzhost_program_run_seconds_total", base) == Approx(4 * 40e-9));
    CHECK(sample(f, "fizzhost_program_run_seconds_total", shadow) == Approx(4 * 120e-9));
    CHECK_FALSE(sample(f, "fizzhost_program_runs_total",
                       {{"interface", "eth1"}, {"variant", "dispatcher"}, {"plugin", ""}, {"version", ""}}));
    CHECK(sample(f, "fizzhost_shadow_compared_total", {{"interface", "eth1"}}) == 256);
    CHECK(sample(f, "fizzhost_shadow_disagreed_total", {{"interface", "eth1"}}) == 6);
    // With the kernel's statistics on, the dispatcher's own figure stays beside the variants'.
    auto withStats = kShadowStatus;
    withStats.runTimeStats = true;
    f = service::statusMetrics(withStats);
    CHECK(sample(f, "fizzhost_program_runs_total",
                 {{"interface", "eth1"}, {"variant", "dispatcher"}, {"plugin", ""}, {"version", ""}}) == 400);
    CHECK(sample(f, "fizzhost_program_runs_total", base) == 4);
}

TEST_CASE("the status text shows each variant's timed cost and the shadow table, disagreements first", "[unit]") {
    const auto& ifc = kShadowStatus.interfaces[0];
    CHECK(cli::variantCostsText(ifc) ==
          "  cost (dispatcher-timed, 1 frame in 64 per CPU): baseline fibonacci 3.0.0 40.0 ns/run over 4 runs, "
          "shadow fibonacci-naive 3.0.2 120.0 ns/run over 4 runs (candidate x3.00 the baseline)\n");
    const std::string table = cli::shadowTableText(ifc);
    CHECK_THAT(table, Contains("  shadow: 256 frames compared, 6 disagreed (2.34%); candidate events withheld\n"));
    CHECK_THAT(table, Contains("  != none             Fibonacci                   4  198.18.0.241 198.18.0.245\n"));
    CHECK_THAT(table, Contains("     Fizz             Fizz                       80  \n"));
    CHECK(cli::shadowTableText(interfaceOf(nlohmann::json::object())).empty());
    CHECK(cli::variantCostsText(interfaceOf(nlohmann::json::parse(R"({"variants": [{"variant": "baseline"}]})"))).empty());
}

TEST_CASE("the status text's variant table sizes each column to its widest cell", "[unit]") {
    const auto ifc = nlohmann::json::parse(R"({
      "variants": [
        {"variant": "baseline", "plugin": "fibonacci", "version": "3.0.0", "packets": 256, "emitted": 120,
         "dropped": 0, "delivered": 120, "undecodable": 0, "kinds": {"Fibonacci": 14, "Fizz": 80}},
        {"variant": "shadow", "plugin": "fibonacci-naive", "version": "3.0.2-rc.1+build.7", "packets": 256,
         "emitted": 126, "dropped": 0, "delivered": 0, "undecodable": 0, "kinds": {"Fibonacci": 19},
         "counts_packets": false}],
      "totals": {"packets": 12345678901234, "emitted": 120, "dropped": 0, "delivered": 120, "undecodable": 0,
                 "kinds": {}}})");
    const std::string text = cli::variantTableText(interfaceOf(ifc));
    std::vector<std::string> lines;
    for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(text.substr(at, nl - at));
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == "  VARIANT  PLUGIN          VERSION                   PACKETS MESSAGES DROPPED DELIVERED UNDECODABLE  PER KIND");
    CHECK(lines[1] == "  baseline fibonacci       3.0.0                         256      120       0       120           0  Fibonacci=14 Fizz=80");
    CHECK(lines[2] == "  shadow   fibonacci-naive 3.0.2-rc.1+build.7            256      126       0         0           0  Fibonacci=19");
    CHECK(lines[3] == "  ! fibonacci-naive 3.0.2-rc.1+build.7 emits but never calls fizz_count_packet(): its PACKETS read 0");
    CHECK(lines[4] == "  (total)  -               -                  12345678901234      120       0       120           0");
    // Every column starts where its header does, whatever the names' lengths.
    for (const char* header : {"VERSION", "DELIVERED", "PER KIND"}) {
        const auto col = lines[0].find(header);
        INFO(header);
        CHECK(lines[1][col - 1] == ' ');
        CHECK(lines[2][col - 1] == ' ');
    }
    CHECK(lines[1].find("Fibonacci=14") == lines[0].find("PER KIND"));
}
