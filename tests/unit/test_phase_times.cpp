// PhaseTimes: the per-step durations behind the daemon's "reload phases:" debug line, which
// fizzhost_swap_latency reads back.
#include "util/phase_times.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <thread>

using fizzhost::PhaseTimes;

TEST_CASE("PhaseTimes closes each step at its mark, adds up repeated steps and keeps their order", "[unit]") {
    PhaseTimes t;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    t.mark("load");
    t.mark("link update");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    t.mark("load");
    const std::string s = t.summary();
    INFO(s);
    std::smatch m;
    REQUIRE(std::regex_match(s, m, std::regex(R"(load ([0-9]+\.[0-9]{2}) ms \(2x\), link update ([0-9]+\.[0-9]{2}) ms)")));
    CHECK(std::stod(m[1]) >= 40.0);  // both sleeps went to "load"
    CHECK(std::stod(m[2]) < 20.0);   // nothing happened between those two marks
    CHECK(t.totalMs() >= 40.0);

    t.restart();
    CHECK(t.summary().empty());
    t.mark("config");
    CHECK(std::regex_match(t.summary(), std::regex(R"(config [0-9]+\.[0-9]{2} ms)")));
}
