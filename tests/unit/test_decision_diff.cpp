// The confusion table `fizzhost diff` builds from two programs' decisions, without a kernel:
// agreeing, expected and unexpected cells, their order, examples, and listed cells never seen.
#include "config/expected_cells.hpp"
#include "measure/decision_diff.hpp"

#include <catch2/catch.hpp>

using namespace fizzhost;
using namespace fizzhost::config;

TEST_CASE("the confusion table of two programs' decisions: expected cells apart, examples, unseen cells", "[unit]") {
    measure::DecisionTally tally(ExpectedCells({{"none", "Web"}, {"Fizz", "FizzBuzz"}}), 2);
    // 10 frames: 4 agree (Fizz), 3 none -> Web (expected), 2 Fizz -> Web (not), 1 none -> none.
    size_t frame = 0;
    auto add = [&](std::optional<uint32_t> src, const char* a, const char* b) {
        ++frame;
        tally.add(frame, src ? std::optional<uint32_t>(*src + uint32_t(frame)) : std::nullopt, a, b);
    };
    for (int i = 0; i < 4; ++i) add(0xC6120000u, "Fizz", "Fizz");
    for (int i = 0; i < 3; ++i) add(0xC6120000u, "none", "Web");
    for (int i = 0; i < 2; ++i) add(std::nullopt, "Fizz", "Web");
    add(std::nullopt, "none", "none");
    tally.addNotRun();
    const auto t = tally.table();
    CHECK(t.compared == 10);
    CHECK(t.expected == 3);
    CHECK(t.unexpected == 2);
    CHECK(t.disagreed() == 5);
    CHECK(t.notRun == 1);
    REQUIRE(t.cells.size() == 4);
    // Unexpected first, then expected, then agreeing, most frames first.
    CHECK((t.cells[0].a == "Fizz" && t.cells[0].b == "Web" && !t.cells[0].expected && !t.cells[0].agree));
    CHECK((t.cells[1].a == "none" && t.cells[1].b == "Web" && t.cells[1].expected));
    CHECK((t.cells[2].a == "Fizz" && t.cells[2].b == "Fizz" && t.cells[2].agree && t.cells[2].frames == 4));
    CHECK((t.cells[3].a == "none" && t.cells[3].b == "none" && t.cells[3].agree));
    // The first examples of differing cells only, with frame numbers and sources.
    REQUIRE(t.cells[1].examples.size() == 2);
    CHECK(t.cells[1].examples[0].frame == 5);
    CHECK(t.cells[1].examples[0].src == 0xC6120005u);
    CHECK(t.cells[1].examples[1].frame == 6);
    CHECK(t.cells[0].examples[0].frame == 8);
    CHECK_FALSE(t.cells[0].examples[0].src);
    CHECK(t.cells[2].examples.empty());
    // A listed cell no frame fell into.
    REQUIRE(t.unseen.size() == 1);
    CHECK(t.unseen[0] == ExpectedCell{"Fizz", "FizzBuzz"});
}
