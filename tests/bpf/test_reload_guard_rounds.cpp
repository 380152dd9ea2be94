// The reload guard stops after its first round when the ratio is far from the limit, and runs all
// its rounds when it is near: a plugin several times slower is refused at once, a close call is
// measured in full.
#include "measure/reload_guard.hpp"
#include "plugin/catalog.hpp"
#include "support/privilege.hpp"
#include "util/error.hpp"

#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

using namespace fizzhost;
using Catch::Matchers::Contains;

namespace {

// What `decide` logged at info level or threw: the guard's decision line either way.
template <typename Fn>
std::string decisionText(Fn&& decide) {
    std::ostringstream out;
    auto previous = spdlog::default_logger();
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("guard-test", std::make_shared<spdlog::sinks::ostream_sink_st>(out)));
    std::string text;
    try {
        decide();
        text = out.str();
    } catch (const Error& e) {
        text = e.what();
    }
    spdlog::set_default_logger(previous);
    return text;
}

}  // namespace

TEST_CASE("the reload guard decides a clear case after one round and a close one after all three", "[bpf]") {
    if (!test::requirePrivilege("measure programs with BPF_PROG_TEST_RUN")) return;
    plugin::Catalog shipped(FIZZHOST_PLUGIN_DIR, plugin::FilePolicy{});
    shipped.rescan();
    plugin::Catalog examples(std::string(FIZZHOST_TEST_PLUGIN_DIR) + "/fibonacci-naive", plugin::FilePolicy{});
    examples.rescan();
    const auto fib = shipped.find("fibonacci"), fizzbuzz = shipped.find("fizzbuzz");
    const auto naive = examples.find("fibonacci-naive");

    // Several times slower than a limit of 1.5x: refused after one round.
    auto guard = measure::makeReloadGuard(1.5, "worst");
    const std::string clear = decisionText([&] { guard(*fib, *naive); });
    INFO(clear);
    CHECK_THAT(clear, Contains("refusing the swap") && Contains("after 1 round(s)"));

    // Two programs of about the same cost against a limit of 1.0x: too close to call on one round.
    auto close = measure::makeReloadGuard(1.0, "worst");
    const std::string near = decisionText([&] { close(*fib, *fizzbuzz); });
    INFO(near);
    CHECK_THAT(near, Contains("incoming fizzbuzz 2.0.0") && Contains("after 3 round(s)"));
}
