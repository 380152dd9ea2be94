// The real fizzhost binary while the interface it is attached to is deleted and created again:
// rtnetlink tells the host, which retires the interface's state, shows it as gone, and attaches
// the configured classifier to the new interface of that name.
#include "netns/daemon_lab.hpp"
#include "util/failpoint.hpp"
#include "bpf/xdp_link.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>
#include <sys/stat.h>

#include <csignal>

#include <atomic>
#include <map>
#include <set>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

// Polls the interface's state in `status` until it is `want`; returns the last status seen.
nlohmann::json waitForState(const DaemonLab& lab, const std::string& want,
                            std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    nlohmann::json ifc;
    while (std::chrono::steady_clock::now() < deadline) {
        ifc = lab.interfaceStatus();
        if (ifc.value("state", std::string()) == want) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ifc;
}

// Events whose source lies in [first, first + count).
std::vector<Event> inRange(const std::vector<Event>& events, uint32_t first, size_t count) {
    std::vector<Event> out;
    const uint32_t lo = benchmarkSources(first, 1)[0];
    for (const auto& e : events)
        if (e.src >= lo && e.src < lo + count) out.push_back(e);
    return out;
}

void checkAgainstReference(const std::vector<Event>& events) {
    std::set<uint32_t> seen;
    for (const auto& e : events) {
        auto want = referenceKind(e.plugin, e.src);
        INFO("event from " << e.plugin << " for 0x" << std::hex << e.src << ": " << e.kind);
        REQUIRE(want);
        CHECK(*want == e.kind);
        CHECK(seen.insert(e.src).second);  // exactly once
    }
}

}  // namespace

TEST_CASE("an interface deleted under traffic is retired and shown as gone; re-created, it gets its "
          "classifier back and loses nothing",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    const auto before = lab.interfaceStatus();
    CHECK(before["state"] == "attached");
    const uint32_t firstLink = before["link_id"];

    // Traffic until the device disappears under the sender.
    constexpr size_t kBatch = 500;
    std::atomic<size_t> sent{0};
    std::thread sender([&] {
        try {
            for (uint32_t next = 0; next < 1'000'000; next += kBatch) sent += lab.send(benchmarkSources(next, kBatch));
        } catch (const std::exception&) {
            // the interface went away mid-batch: expected
        }
    });
    while (sent < 5000) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    lab.removeLink();
    sender.join();
    INFO("frames sent before the interface was deleted: " << sent);

    auto gone = waitForState(lab, "gone");
    REQUIRE(gone["state"] == "gone");
    CHECK(gone["classifier"] == "fizz");
    CHECK(gone["variants"].empty());
    CHECK(lab.attachedProgramId() == 0);  // no such device
    // Retired cleanly: every message the program emitted before the device went was delivered.
    const auto& fin = gone["final"];
    CHECK(fin["packets"].get<uint64_t>() >= 5000);
    CHECK(fin["dropped"] == 0);
    CHECK(fin["delivered"] == fin["emitted"]);
    const auto beforeEvents = lab.events();
    CHECK(beforeEvents.size() == fin["delivered"].get<size_t>());
    checkAgainstReference(beforeEvents);
    const auto log = lab.daemon().stderrText();
    CHECK_THAT(log, Contains("interface '" + lab.ifname() + "' (ifindex"));
    CHECK_THAT(log, Contains("was deleted"));

    {
        DaemonProcess text({FIZZHOST_BINARY, "status", "--config", lab.configPath().string()});
        REQUIRE(text.waitExit(std::chrono::seconds(20)) == 0);
        CHECK_THAT(text.stdoutText(), Contains("interface " + lab.ifname() + "  gone since ") &&
                                          Contains("fizz is attached again when it appears") &&
                                          Contains("final counts: " + fin["packets"].dump() + " packets"));
    }

    // A reload meanwhile says the interface is gone instead of claiming it was applied.
    REQUIRE(lab.reload());
    CHECK_THAT(lab.daemon().stderrText(), Contains("reload: interface '" + lab.ifname() + "' is gone"));
    CHECK_THAT(lab.daemon().stderrText(), Contains("configured interface(s) gone"));
    CHECK(lab.interfaceStatus()["state"] == "gone");

    // Back under the same name: the host attaches fizz by itself.
    lab.recreateLink();
    auto back = waitForState(lab, "attached");
    REQUIRE(back["state"] == "attached");
    CHECK(back["variants"][0]["plugin"] == "fizz");
    CHECK(back["link_id"] != firstLink);
    CHECK(lab.attachedProgramId() == back["program_id"].get<uint32_t>());
    CHECK_THAT(lab.daemon().stderrText(), Contains("interface '" + lab.ifname() + "' appeared again"));

    // Events flow again, none lost: every frame counted, every message delivered, all right.
    constexpr uint32_t kFirst = 2'000'000;
    constexpr size_t kAfter = 3000;
    REQUIRE(lab.send(benchmarkSources(kFirst, kAfter)) == kAfter);
    CHECK(lab.waitForPackets(kAfter) == kAfter);
    const auto now = lab.interfaceStatus()["variants"][0];
    CHECK(now["dropped"] == 0);
    const size_t emitted = now["emitted"];
    CHECK(emitted == kAfter / 3);  // fizz reports every source divisible by 3
    auto after = inRange(lab.waitForEvents(beforeEvents.size() + emitted), kFirst, kAfter);
    CHECK(after.size() == emitted);
    checkAgainstReference(after);
    CHECK(lab.stop() == 0);
}

// A FIFO no longer stalls a reload (plugin and config files are opened O_NONBLOCK and refused when
// not regular), so this runs the reload to its end, the FIFO skipped, before the SIGTERM.
TEST_CASE("a FIFO in the plugin folder is skipped by a reload, and SIGTERM then stops the daemon", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz.so");
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"), plugins);
    lab.start();
    CHECK(lab.attachedProgramId() != 0);
    // A file that would block whoever opens it for reading without O_NONBLOCK, in the folder a
    // reload reads.
    REQUIRE(::mkfifo((plugins / "x.so").c_str(), 0644) == 0);
    lab.daemon().signal(SIGHUP);
    REQUIRE(lab.daemon().waitForStderr("is a FIFO, not a regular file", std::chrono::seconds(10)));
    REQUIRE(lab.daemon().waitForStderr("reload complete", std::chrono::seconds(10)));
    const auto t0 = std::chrono::steady_clock::now();
    lab.daemon().signal(SIGTERM);
    auto status = lab.daemon().waitExit(std::chrono::seconds(20));
    if (!status) {
        UniqueFd release(::open((plugins / "x.so").c_str(), O_WRONLY | O_NONBLOCK));
        FAIL("fizzhost ignored SIGTERM for 20 s:\n" << lab.daemon().stderrText());
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    INFO("exit status " << *status << " after " << seconds << " s\n" << lab.daemon().stderrText());
    CHECK(seconds < 15);
    CHECK(lab.attachedProgramId() == 0);  // nothing left attached
}

// The stop grace (cli/daemon_command.cpp): a SIGTERM the main thread cannot take, because a reload
// never returns, ends the process after the grace anyway, saying why.
TEST_CASE("SIGTERM ends the daemon after the stop grace while a reload never returns", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    DaemonProcess daemon({"env", std::string("FIZZHOST_FAILPOINTS=") + failpoints::kCatalogRead + ":stall",
                          FIZZHOST_BINARY, "--config", lab.configPath().string()},
                         lab.dir(), lab.hostNs().name());
    REQUIRE(daemon.waitForStderr("fizzhost running", std::chrono::seconds(20)));
    CHECK(lab.attachedProgramId() != 0);
    daemon.signal(SIGHUP);
    REQUIRE(daemon.waitForStderr("stalls this reload for good", std::chrono::seconds(20)));
    daemon.signal(SIGTERM);
    auto status = daemon.waitExit(std::chrono::seconds(30));
    INFO(daemon.stderrText());
    REQUIRE(status);
    CHECK(*status == 128 + SIGTERM);
    CHECK_THAT(daemon.stderrText(), Contains("SIGTERM received 5 s ago while reloading, which has not finished: "
                                             "exiting now without an orderly stop"));
}

TEST_CASE("a failed reload keeps the old plugin catalog: an interface that returns afterwards gets its classifier",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    const std::string table = interfaceTable(lab.ifname(), "fizz");
    lab.writeConfig(table);
    lab.start();
    // A reload to a plugin folder without fizz fails; the catalog it scanned must not stay behind.
    const auto empty = lab.dir() / "no-plugins";
    std::filesystem::create_directory(empty);
    lab.writeConfig(table, empty);
    CHECK_FALSE(lab.reload());
    CHECK_THAT(lab.daemon().stderrText(), Contains("unknown plugin 'fizz'"));

    // The running host still resolves fizz from its own folder when the interface comes back.
    lab.removeLink();
    REQUIRE(waitForState(lab, "gone")["state"] == "gone");
    lab.recreateLink();
    auto back = waitForState(lab, "attached");
    INFO(lab.daemon().stderrText());
    REQUIRE(back["state"] == "attached");
    CHECK(back["variants"][0]["plugin"] == "fizz");
    lab.send({0xC6120003});
    auto events = lab.waitForEvents(1);
    REQUIRE(events.size() == 1);
    CHECK(events[0].kind == "Fizz");
}

TEST_CASE("an interface renamed away is retired as gone; renamed back, it gets its classifier again", "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    lab.start();
    const std::string ns = lab.hostNs().name();
    const std::string other = "fztr" + std::to_string(getpid() % 100000);
    // The kernel renames only a device that is down.
    run({"ip", "-n", ns, "link", "set", lab.ifname(), "down"});
    run({"ip", "-n", ns, "link", "set", lab.ifname(), "name", other});
    auto gone = waitForState(lab, "gone");
    REQUIRE(gone["state"] == "gone");
    CHECK_THAT(lab.daemon().stderrText(), Contains("was renamed to '" + other + "'"));
    {
        ScopedNetns in(lab.hostNs());
        CHECK(bpf::attachedXdpProgramId(int(if_nametoindex(other.c_str()))) == 0);  // released, not left behind
    }
    run({"ip", "-n", ns, "link", "set", other, "name", lab.ifname()});
    run({"ip", "-n", ns, "link", "set", lab.ifname(), "up"});
    auto back = waitForState(lab, "attached");
    REQUIRE(back["state"] == "attached");
    CHECK(lab.attachedProgramId() == back["program_id"].get<uint32_t>());
    REQUIRE(lab.send(benchmarkSources(0, 300)) == 300);
    CHECK(lab.waitForPackets(300) == 300);
    CHECK(lab.waitForEvents(100).size() == 100);
    CHECK(lab.stop() == 0);
}
