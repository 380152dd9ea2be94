// A progressive rollout's own moves (made by the host's timer, not by a reload) under failure
// injection: the move from the shadow stage to the first split step fails at each point of its
// transaction in turn. After each failure the shadow stage runs on untouched (the same dispatcher
// on the link, the same fds and BPF objects held, status naming the error) and the move is tried
// again a step later; once every point is spent it goes through and the step is judged from then
// on. The next move (a map write) fails once too, and the split runs on at its percent. The
// rollout is then promoted with every frame classified and every message delivered.
#include "netns/daemon_lab.hpp"
#include "netns/rollout_traffic.hpp"
#include "support/bpf_footprint.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "util/failpoint.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

TEST_CASE("a rollout's move out of the shadow stage failing at each point keeps the stage running untouched, is "
          "retried, then carried out",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    using namespace failpoints;
    DaemonLab lab;
    const std::filesystem::path built = FIZZHOST_PLUGIN_DIR, test = FIZZHOST_TEST_PLUGIN_DIR;
    const auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(built / "fizz.so", plugins / "fizz-1.0.0.so");
    std::filesystem::copy_file(test / "fizz-1.1.0" / "fizz.so", plugins / "fizz-1.1.0.so");
    lab.writeConfig(rolloutTable(lab.ifname(), "fizz@1.0.0",
                                 "candidate = \"fizz@1.1.0\"\nsteps = [50, 100]\nstep_seconds = 2\nshadow_seconds = 1\n"
                                 "min_samples = 10\nmax_disagreement = 0\npromote = true\n"),
                    plugins);
    std::string all;
    for (const auto& p : knownFailpoints()) all += (all.empty() ? "" : ",") + p;
    DaemonProcess daemon({"env", "FIZZHOST_FAILPOINTS=" + all, FIZZHOST_BINARY, "--config", lab.configPath().string()},
                         lab.dir(), lab.hostNs().name());
    REQUIRE(daemon.waitForStderr("fizzhost running", std::chrono::seconds(20)));
    const auto first = lab.interfaceStatus();
    REQUIRE(rolloutStage(first) == "shadow");
    const auto shadowDispatcher = first["program_id"];
    const BpfFootprint footprint = bpfFootprint(daemon.pid());

    RolloutTraffic traffic(lab, [](uint64_t n) { return benchmarkSources(uint32_t(n * 64 % 60000), 64); });
    // No catalog read: the move loads what the running reload already found.
    const std::vector<const char*> points = {kInstanceLoaded, kDispatcherBuilt, kSourcesAdded, kBeforeLinkUpdate};
    for (size_t i = 0; i < points.size(); ++i) {
        INFO("failure point " << points[i]);
        // Logged once the failed move was undone.
        if (!daemon.waitForStderr("could not carry out the step stage", std::chrono::seconds(30), i + 1))
            FAIL("the move failed " << i << " times; log:\n" << daemon.stderrText());
        CHECK_THAT(daemon.stderrText(), Contains(std::string("failure injected at '") + points[i] + "'"));
        const auto now = lab.interfaceStatus();
        CHECK(now["program_id"] == shadowDispatcher);
        CHECK(now.contains("shadow"));  // the shadow stage runs on
        CHECK_THAT(now["progressive"]["action_error"].get<std::string>(), Contains(points[i]));
        const BpfFootprint after = bpfFootprint(daemon.pid());
        INFO("footprint before: " << describe(footprint) << "\nafter: " << describe(after));
        CHECK(after == footprint);
    }

    // The status says "step" from the decision on; the kernel runs it once the move went through.
    const auto split = waitForInterfaceStatus(
        lab, [&](const nlohmann::json& s) { return s["program_id"] != shadowDispatcher; }, "the first split step");
    CHECK(rolloutStage(split) == "step");
    CHECK(split["link_id"] == first["link_id"]);
    CHECK(split["percent"] == 50);
    CHECK_FALSE(split["progressive"].contains("action_error"));
    CHECK_FALSE(split.contains("shadow"));
    CHECK(countOccurrences(daemon.stderrText(), "the step stage is carried out now; its window opens") == 1);

    // The next move, 50% -> 100%, is one map write: it fails there once, and the 50% split runs on.
    if (!daemon.waitForStderr("could not carry out the step stage", std::chrono::seconds(30), points.size() + 1))
        FAIL("the map write did not fail; log:\n" << daemon.stderrText());
    CHECK_THAT(daemon.stderrText(), Contains(std::string("failure injected at '") + kBeforeMapWrite + "'"));
    const auto held = lab.interfaceStatus();
    CHECK(held["program_id"] == split["program_id"]);
    CHECK(held["percent"] == 50);
    CHECK_THAT(held["progressive"]["action_error"].get<std::string>(), Contains(kBeforeMapWrite));
    waitForInterfaceStatus(
        lab, [](const nlohmann::json& s) { return rolloutStage(s) == "promoted"; }, "promotion");
    traffic.waitForMore(500);
    traffic.stop();
    // Not a frame unclassified through five failed moves and three link updates; every message out.
    CHECK(lab.waitForPackets(traffic.sent()) == traffic.sent());
    const auto done = lab.interfaceStatus();
    REQUIRE(done["variants"].size() == 1);
    CHECK(done["variants"][0]["version"] == "1.1.0");
    CHECK(lab.waitForEvents(done["totals"]["emitted"].get<size_t>()).size() == done["totals"]["emitted"]);
    CHECK(done["totals"]["dropped"] == 0);
    const auto log = daemon.stderrText();
    CHECK(countOccurrences(log, "could not carry out the step stage") == points.size() + 1);
    CHECK(countOccurrences(log, "the step stage is carried out now; its window opens") == 2);
    CHECK_THAT(log, !Contains(std::string("failure injected at '") + kCatalogRead + "'"));

    daemon.signal(SIGTERM);
    CHECK(daemon.waitExit(std::chrono::seconds(20)) == 0);
}
