// The host's status as JSON, both ways: the document the control socket answers keeps its keys and
// types, and `fizzhost status` reads back exactly what the host wrote.
#include "runtime/status/status_json.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using Catch::Matchers::Contains;

namespace {

// Every key the host writes: an interface in a shadow-stage progressive rollout with its cost and
// a cost window, a lone classifier with the kernel's figures, a gone interface, the events output
// after a failed write, and a refused reload.
const nlohmann::json kFull = nlohmann::json::parse(R"json({
  "run_time_stats": true, "insecure_plugins": false, "state_root": "/sys/fs/bpf/fizzhost", "on_exit": "keep",
  "events_written": 42, "events_lost": 5, "write_errors": 3, "last_write_error": "No space left on device (ENOSPC)",
  "events_reopens": 1, "events_lost_write_timeout": 2, "events_lost_queue_full": 1,
  "decoders": [{"plugin": "fizzbuzz", "version": "1.0.0", "sha256": "ab12", "file": "fizzbuzz.so", "confined": true,
                "pid": 4242, "starts": 3, "restarts": 2, "last_failure": "SIGSEGV",
                "undecodable": {"SIGSEGV": 1}, "disabled": false, "disabled_reason": ""}],
  "last_reload": {"time": "2026-11-25T17:03:41Z", "trigger": "SIGHUP", "result": "refused", "duration_ms": 3.25,
                  "reason": "interface 'eth1': unknown plugin 'nope'"},
  "interfaces": [
    {"name": "eth0", "state": "attached", "mode": "native", "link_id": 7, "program_id": 70, "ns_per_run": 50.5,
     "runs": 1000, "hook": "xdp", "chain": {"then": "/sys/fs/bpf/lb/xdp", "program_id": 12}, "on_detach": "reattach",
     "detaches": 0,
     "totals": {"packets": 1000, "emitted": 30, "dropped": 2, "delivered": 23, "undecodable": 1,
                "kinds": {"Buzz": 8, "Fizz": 20, "FizzBuzz": 2}},
     "variants": [
       {"variant": "baseline", "plugin": "fizzbuzz", "version": "1.0.0", "abi": "1.1", "program_id": 70,
        "packets": 1000, "emitted": 30, "dropped": 2, "delivered": 23, "write_lost": 5, "undecodable": 1,
        "withheld": 0, "counts_packets": true, "kinds": {"Buzz": 8, "Fizz": 20, "FizzBuzz": 2},
        "ns_per_run": 50.5}]},
    {"name": "eth1", "state": "attached", "mode": "tcx", "link_id": 8, "program_id": 81, "hook": "tc",
     "place": "after program 'cil_from_netdev'", "on_detach": "stay_off", "detaches": 2,
     "off": "link id 8 was detached by another process; on_detach = \"stay_off\": off until a reload",
     "shadow": {"compared": 256, "disagreed": 6, "unexpected": 2, "events": false, "cells": [
        {"baseline": "none", "candidate": "Fibonacci", "frames": 4, "agree": false, "expected": true,
         "examples": ["198.18.0.241", "198.18.0.245"]},
        {"baseline": "Fizz", "candidate": "Fizz", "frames": 80, "agree": true, "expected": false, "examples": []}]},
     "progressive": {"stage": "shadow", "step": 0, "steps": [5, 25, 100], "percent": 0, "step_seconds": 10,
                     "shadow_seconds": 20, "seconds_in_step": 3.5, "window_seconds": 3.25, "promote": true,
                     "confidence": 0.99,
                     "gates": [{"name": "max_disagreement", "figure": 0.0234375, "lower": 0.01, "upper": 0.046875,
                                "confidence": 0.9998, "limit": 0.05, "samples": 256,
                                "min_samples": 100, "unit": "frames", "verdict": "pass"},
                               {"name": "max_slowdown", "figure": null, "lower": null, "upper": null,
                                "confidence": 0.0, "limit": 1.5, "samples": 0,
                                "min_samples": 100, "unit": "timed runs", "verdict": "unavailable"}],
                     "verdict": "watching", "reason": "", "action_error": "injected"},
     "totals": {"packets": 256, "emitted": 3, "dropped": 0, "delivered": 3, "undecodable": 0, "kinds": {"Fizz": 3}},
     "variants": [
       {"variant": "baseline", "plugin": "fibonacci", "version": "3.0.0", "abi": "1.0", "program_id": 80,
        "packets": 256, "emitted": 3, "dropped": 0, "delivered": 3, "write_lost": 0, "undecodable": 0,
        "withheld": 0, "counts_packets": true, "kinds": {"Fizz": 3}, "ns_per_run": 40.0, "runs": 4,
        "runs_timed_1_in": 64},
       {"variant": "shadow", "plugin": "fibonacci-naive", "version": "3.0.2", "abi": "1.0", "program_id": 82,
        "packets": 256, "emitted": 3, "dropped": 0, "delivered": 0, "write_lost": 0, "undecodable": 0,
        "withheld": 3, "counts_packets": false, "kinds": {"Fizz": 3}, "ns_per_run": 120.0, "runs": 4,
        "runs_timed_1_in": 64}],
     "cost_window": {"seconds": 2.0, "runs": 4000, "ns_per_run": 61.5}},
    {"name": "eth2", "state": "gone", "classifier": "fizz", "gone_since": "2026-11-25T17:00:00Z", "ifindex_was": 9,
     "final": {"packets": 5000, "emitted": 1667, "dropped": 0, "delivered": 1667, "undecodable": 0,
               "kinds": {"Fizz": 1667}},
     "variants": []}
  ]})json");

}  // namespace

TEST_CASE("status JSON: what the host writes reads back to the same document, key for key", "[unit]") {
    const runtime::HostStatus s = runtime::hostStatusFromJson(kFull);
    CHECK(runtime::toJson(s) == kFull);
    // Read as typed values, not as text.
    REQUIRE(s.interfaces.size() == 3);
    CHECK(s.interfaces[1].progressive->stage == runtime::RolloutStage::Shadow);
    CHECK(s.interfaces[1].progressive->gates[1].verdict == runtime::GateVerdict::Unavailable);
    CHECK_FALSE(s.interfaces[1].progressive->gates[1].figure);
    CHECK(s.interfaces[1].progressive->gates[0].upper == 0.046875);
    CHECK(s.interfaces[1].shadow->cells[0].expected);
    CHECK(s.interfaces[2].state == runtime::InterfaceStatus::State::Gone);
    CHECK(s.interfaces[2].final.kinds.at("Fizz") == 1667);
    CHECK_FALSE(s.lastReload->ok);
    CHECK(s.output->lastError == "No space left on device (ENOSPC)");
    CHECK(runtime::hostStatusFromJson(runtime::toJson(s)) == s);
}

TEST_CASE("status JSON: a host before its start or first reload writes nulls and leaves out what it lacks", "[unit]") {
    const nlohmann::json j = runtime::toJson(runtime::HostStatus{});
    CHECK(j["last_reload"].is_null());
    CHECK(j["state_root"].is_null());
    CHECK(j["on_exit"] == "detach");
    CHECK_FALSE(j.contains("events_written"));
    CHECK(j["interfaces"].empty());
    CHECK(runtime::hostStatusFromJson(j) == runtime::HostStatus{});
}

TEST_CASE("status JSON: a value of the wrong type is refused with what and where", "[unit]") {
    auto bad = kFull;
    bad["interfaces"][0]["link_id"] = "seven";
    try {
        runtime::hostStatusFromJson(bad);
        FAIL("a string link_id was read");
    } catch (const Error& e) {
        CHECK(e.code() == EPROTO);
        CHECK_THAT(e.what(), Contains("host status"));
    }
    bad = kFull;
    bad["interfaces"][1]["progressive"]["stage"] = "sideways";
    CHECK_THROWS_WITH(runtime::hostStatusFromJson(bad), Contains("'stage' is \"sideways\""));
}
