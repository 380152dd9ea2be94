// Expected differences without a kernel: the cell syntax, the list file, the matcher, the kind
// check against what plugins declare, and the rollout table's `expected` and `max_unexpected` keys
// (where they are accepted, errors with file:line:col).
#include "config/config_loader.hpp"
#include "config/expected_cells.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using namespace fizzhost::config;
using Catch::Matchers::Contains;

namespace {

std::string parseError(std::string_view text, size_t* offset = nullptr) {
    std::string why;
    size_t at = 99;
    auto cell = parseExpectedCell(text, &why, &at);
    CHECK_FALSE(cell);
    if (offset) *offset = at;
    return why;
}

std::string listError(std::string_view text) {
    try {
        parseExpectedList(text, "cells.txt");
    } catch (const Error& e) {
        CHECK(e.code() == EINVAL);
        return e.what();
    }
    FAIL("accepted:\n" << text);
    return "";
}

constexpr const char* kSource = "/etc/fizz/fizz.toml";
const std::string kHead =
    "[interface.a]\nclassifier = \"web-tag@1.0.0\"\n[interface.a.rollout]\ncandidate = \"web-tag@1.1.0\"\n";

HostConfig parse(const std::string& text) { return parseConfig(text, kSource, "/plugins"); }

std::string configError(const std::string& text) {
    try {
        parse(text);
    } catch (const Error& e) {
        CHECK(e.code() == EINVAL);
        return e.what();
    }
    FAIL("config was accepted:\n" << text);
    return "";
}

}  // namespace

TEST_CASE("an expected cell is BASELINE -> CANDIDATE in kind names", "[unit]") {
    auto c = parseExpectedCell("none -> Web");
    REQUIRE(c);
    CHECK(c->baseline == "none");
    CHECK(c->candidate == "Web");
    CHECK(c->text() == "none -> Web");
    CHECK(parseExpectedCell("  Fizz->FizzBuzz\t") == ExpectedCell{"Fizz", "FizzBuzz"});
    CHECK(parseExpectedCell("Port scan -> Web server") == ExpectedCell{"Port scan", "Web server"});

    size_t at = 0;
    CHECK(parseError("none Web", &at) == "expected BASELINE -> CANDIDATE in kind names (e.g. \"none -> Web\"), found no '->'");
    CHECK(at == 0);
    CHECK(parseError(" -> Web", &at) == "no baseline kind before '->' (\"none\" for no message)");
    CHECK(at == 1);
    CHECK(parseError("Fizz ->  ", &at) == "no candidate kind after '->' (\"none\" for no message)");
    CHECK(at == 7);
    CHECK(parseError("a -> b -> c", &at) == "more than one '->': a cell is one BASELINE -> CANDIDATE pair");
    CHECK(at == 7);
    CHECK(parseError("Web -> Web") == "'Web -> Web' is no difference: both sides are 'Web'");
    CHECK(parseError("none -> W\u200beb") == "kind name 'W\\u200beb' holds control or invisible characters");
}

TEST_CASE("a list of expected cells: one a line, comments, errors at line and column", "[unit]") {
    const auto cells = parseExpectedList("# release 1.1.0\n\nnone -> Web   # the new rule\n  Fizz -> Web\n", "cells.txt");
    REQUIRE(cells.size() == 2);
    CHECK(cells[0] == ExpectedCell{"none", "Web"});
    CHECK(cells[1] == ExpectedCell{"Fizz", "Web"});
    CHECK(parseExpectedList("", "cells.txt").empty());
    CHECK(listError("none -> Web\n  Fizz Web\n") ==
          "cells.txt:2:3: expected BASELINE -> CANDIDATE in kind names (e.g. \"none -> Web\"), found no '->'");
    CHECK(listError("none -> Web\nFizz -> \n") == "cells.txt:2:8: no candidate kind after '->' (\"none\" for no message)");
    CHECK(listError("none -> Web\n\n none->Web\n") == "cells.txt:3:2: 'none -> Web' is listed twice (first on line 1)");
}

TEST_CASE("the matcher and the kind check against the plugins' declared kinds", "[unit]") {
    const ExpectedCells cells({{"none", "Web"}, {"Fizz", "Web"}});
    CHECK(cells.contains("none", "Web"));
    CHECK(cells.contains("Fizz", "Web"));
    CHECK_FALSE(cells.contains("Web", "none"));
    CHECK_FALSE(cells.contains("Fizz", "none"));
    CHECK_FALSE(cells.contains("fizz", "Web"));  // kind names compare exactly
    CHECK_FALSE(ExpectedCells().contains("none", "Web"));

    const std::vector<std::string> v100 = {"Fizz"}, v110 = {"Fizz", "Web"};
    CHECK_NOTHROW(checkExpectedKinds(cells.cells(), v100, "web-tag 1.0.0", v110, "web-tag 1.1.0", "--expect"));
    try {
        checkExpectedKinds({{"none", "Webb"}}, v100, "web-tag 1.0.0", v110, "web-tag 1.1.0", "--expect");
        FAIL("an unknown kind was accepted");
    } catch (const Error& e) {
        CHECK(std::string(e.what()) == "--expect: expected cell 'none -> Webb': the candidate (web-tag 1.1.0) declares no "
                                       "kind 'Webb' (it declares Fizz, Web; did you mean 'Web'?)");
    }
    // The baseline side is checked against the baseline: 1.0.0 has no Web.
    CHECK_THROWS_WITH(checkExpectedKinds({{"Web", "Fizz"}}, v100, "web-tag 1.0.0", v110, "web-tag 1.1.0", "--expect"),
                      Contains("the baseline (web-tag 1.0.0) declares no kind 'Web' (it declares Fizz)"));
}

TEST_CASE("a rollout table lists expected cells for shadow mode or a shadow stage", "[unit]") {
    auto shadow = parse(kHead + "mode = \"shadow\"\nexpected = [\"none -> Web\", \"Fizz -> Web\"]\n");
    const auto& r = *shadow.interfaces[0].rollout;
    CHECK(r.expected == std::vector<ExpectedCell>{{"none", "Web"}, {"Fizz", "Web"}});
    REQUIRE(shadow.interfaces[0].expectedAt.size() == 2);
    CHECK(shadow.interfaces[0].expectedAt[1].line == 6);
    CHECK(shadow.interfaces[0].expectedAt[1].column == 28);

    // A shadow stage: max_unexpected defaults to 0 once cells are listed, and may be given.
    auto staged = parse(kHead + "steps = [50]\nshadow_seconds = 30\nexpected = [\"none -> Web\"]\n");
    CHECK(staged.interfaces[0].rollout->plan->gates.maxUnexpected == 0.0);
    auto tolerant = parse(kHead + "steps = [50]\nshadow_seconds = 30\nexpected = [\"none -> Web\"]\nmax_unexpected = 0.001\n");
    CHECK(tolerant.interfaces[0].rollout->plan->gates.maxUnexpected == 0.001);
    // Without cells nothing changes: max_disagreement alone judges the stage, as before.
    auto plain = parse(kHead + "steps = [50]\nshadow_seconds = 30\nmax_disagreement = 0.01\n");
    CHECK_FALSE(plain.interfaces[0].rollout->plan->gates.maxUnexpected);
    CHECK(plain.interfaces[0].rollout->expected.empty());
}

TEST_CASE("expected cells and max_unexpected are refused where nothing compares frames, with place and reason",
          "[unit]") {
    CHECK(configError(kHead + "percent = 10\nexpected = [\"none -> Web\"]\n") ==
          "/etc/fizz/fizz.toml:6:12: interface.a.rollout.expected: applies where both variants decide every frame "
          "only: add mode = \"shadow\" (or shadow_seconds = N, a shadow stage before the steps) or remove it");
    CHECK(configError(kHead + "steps = [5]\nexpected = [\"none -> Web\"]\n") ==
          "/etc/fizz/fizz.toml:6:12: interface.a.rollout.expected: applies where both variants decide every frame "
          "only: add mode = \"shadow\" (or shadow_seconds = N, a shadow stage before the steps) or remove it");
    CHECK(configError(kHead + "mode = \"shadow\"\nexpected = [\"none Web\"]\n") ==
          "/etc/fizz/fizz.toml:6:13: interface.a.rollout.expected[0]: expected BASELINE -> CANDIDATE in kind names "
          "(e.g. \"none -> Web\"), found no '->'");
    CHECK(configError(kHead + "mode = \"shadow\"\nexpected = [\"none -> Web\", 3]\n") ==
          "/etc/fizz/fizz.toml:6:28: interface.a.rollout.expected[1]: expected a string \"BASELINE -> CANDIDATE\", got "
          "an integer");
    CHECK(configError(kHead + "mode = \"shadow\"\nexpected = [\"none -> Web\", \"none->Web\"]\n") ==
          "/etc/fizz/fizz.toml:6:28: interface.a.rollout.expected[1]: \"none -> Web\" is listed twice");
    CHECK(configError(kHead + "mode = \"shadow\"\nexpected = \"none -> Web\"\n") ==
          "/etc/fizz/fizz.toml:6:12: interface.a.rollout.expected: expected an array, got a string");
    CHECK(configError(kHead + "steps = [5]\nmax_unexpected = 0.01\n") ==
          "/etc/fizz/fizz.toml:6:18: interface.a.rollout.max_unexpected: applies to a shadow stage only, where the "
          "candidate runs on every frame beside the baseline: add shadow_seconds = N (the stage's length, before the "
          "first step) or remove it");
    CHECK(configError(kHead + "mode = \"shadow\"\nmax_unexpected = 0.01\n") ==
          "/etc/fizz/fizz.toml:6:18: interface.a.rollout.max_unexpected: only a progressive rollout has it: add steps "
          "= [...] (percentages the host moves through)");
    CHECK(configError(kHead + "steps = [5]\nshadow_seconds = 9\nmax_unexpected = 2\n") ==
          "/etc/fizz/fizz.toml:7:18: interface.a.rollout.max_unexpected: must be a fraction in 0..1, got 2");
    CHECK(configError(kHead + "mode = \"shadow\"\nexpectd = []\n") ==
          "/etc/fizz/fizz.toml:6:1: interface.a.rollout.expectd: unknown key 'expectd' (did you mean 'expected'?)");
}
