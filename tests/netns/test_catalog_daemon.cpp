// The running host and its plugin folder: a rescan (SIGHUP) runs no plugin code it was not asked
// for, survives a half-copied module, and runs one version of a plugin against another.
#include "netns/daemon_lab.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace fizzhost::test;
using Catch::Matchers::Contains;

TEST_CASE("a host rescan lists without running modules, survives a truncated one, and splits between two versions",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    const std::filesystem::path built = FIZZHOST_PLUGIN_DIR, test = FIZZHOST_TEST_PLUGIN_DIR;
    std::filesystem::copy_file(built / "fizz.so", plugins / "fizz-1.0.0.so");
    std::filesystem::copy_file(test / "marker" / "marker.so", plugins / "marker.so");
    auto marker = lab.dir() / "constructor-ran";
    ::setenv("FIZZTEST_MARKER", marker.c_str(), 1);  // the daemon inherits it
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"), plugins);
    lab.start();
    CHECK_FALSE(std::filesystem::exists(marker));

    // A plain cp in progress: half a module, then SIGHUP. Refused, logged, and the host goes on.
    std::filesystem::copy_file(built / "fizzbuzz.so", plugins / "fizzbuzz.so");
    std::filesystem::resize_file(plugins / "fizzbuzz.so", std::filesystem::file_size(plugins / "fizzbuzz.so") / 3);
    std::filesystem::copy_file(test / "fizz-1.1.0" / "fizz.so", plugins / "fizz-1.1.0.so");
    lab.writeConfig(rolloutTable(lab.ifname(), "fizz@1.0.0", "candidate = \"fizz@1.1.0\"\npercent = 50\n"), plugins);
    REQUIRE(lab.reload());
    CHECK_THAT(lab.daemon().stderrText(), Contains("fizzbuzz.so") && Contains("truncated: "));
    CHECK_FALSE(std::filesystem::exists(marker));
    auto st = lab.interfaceStatus();
    REQUIRE(st["variants"].size() == 2);
    CHECK(st["variants"][0]["version"] == "1.0.0");
    CHECK(st["variants"][1]["version"] == "1.1.0");
    // The contract each variant was built against (the test plugins declare ABI 1.1).
    CHECK(st["variants"][0]["abi"] == "1.1");

    std::vector<uint32_t> sources;
    for (uint32_t i = 0; i < 60; ++i) sources.push_back(0xC6120000 + 3 * i);  // all Fizz
    lab.send(sources);
    auto events = lab.waitForEvents(sources.size());
    REQUIRE(events.size() == sources.size());
    size_t older = 0, newer = 0;
    for (const auto& e : events) (e.version == "1.0.0" ? older : newer) += 1;
    CHECK(older > 0);
    CHECK(newer > 0);
    CHECK(lab.stop() == 0);
    CHECK_FALSE(std::filesystem::exists(marker));
    ::unsetenv("FIZZTEST_MARKER");
}

TEST_CASE("a decoder that throws costs only its messages: counted undecodable, the host keeps delivering", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "throws"),
                    std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "throws");
    lab.start();
    // fizz emits for sources divisible by 3; the decoder throws for odd ones.
    std::vector<uint32_t> sources;
    size_t odd = 0, even = 0;
    for (uint32_t i = 0; i < 40; ++i) {
        const uint32_t s = 0xC6120000 + 3 * i;
        sources.push_back(s);
        (s % 2 ? odd : even) += 1;
    }
    lab.send(sources);
    auto events = lab.waitForEvents(even);
    CHECK(events.size() == even);
    for (const auto& e : events) CHECK(e.src % 2 == 0);
    uint64_t undecodable = 0;
    for (int i = 0; i < 100 && undecodable < odd; ++i) {
        undecodable = lab.interfaceStatus()["variants"][0].value("undecodable", uint64_t(0));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(undecodable == odd);
    CHECK(lab.stop() == 0);  // still alive to be stopped
}
