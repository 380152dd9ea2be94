// The host in this process, so the thread sanitizer sees every thread it runs: the pump delivering
// real frames, reloads from one thread and status read from others at the same time (what the
// control socket does). Tagged [threads] for scripts/sanitize.sh's TSan build; it also runs in the
// ordinary [netns] suite.
#include "config/config_loader.hpp"
#include "runtime/host/host.hpp"
#include "support/frame_builder.hpp"
#include "support/netns.hpp"
#include "support/daemon_process.hpp"
#include "support/privilege.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

config::HostConfig configFor(const std::string& ifname, const std::string& classifier,
                             const std::filesystem::path& dir) {
    std::ostringstream text;
    text << "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\n"
         << "control_socket = \"" << (dir / "control.sock").string() << "\"\n"
         << "[output]\nevents = \"" << (dir / "events.jsonl").string() << "\"\n"
         << "[interface." << ifname << "]\nclassifier = \"" << classifier << "\"\n";
    return config::parseConfig(text.str(), dir / "fizz.toml", FIZZHOST_PLUGIN_DIR);
}

uint64_t totalPackets(const runtime::HostStatus& status) {
    uint64_t n = 0;
    for (const auto& ifc : status.interfaces) n += ifc.totals.packets;
    return n;
}

}  // namespace

TEST_CASE("status readers, reloads and the pump run at once without a data race", "[netns][threads]") {
    if (!requirePrivilege("attach XDP to a veth pair in this process")) return;
    NetNs hostNs, peerNs;
    VethPair veth(hostNs, peerNs);
    TempDir dir;
    RawSender sender(peerNs, veth.nameB());

    ScopedNetns inHost(hostNs);  // Host::start and reload resolve the interface in this thread's namespace
    runtime::Host host(configFor(veth.nameA(), "fizz", dir.path()), true);
    host.start();

    std::atomic<bool> done{false};
    // Catch2's assertions are not thread-safe: the other threads only count, the test checks after.
    std::atomic<size_t> sent{0}, statusReads{0}, badReads{0};
    std::thread traffic([&] {
        for (uint32_t next = 0; !done; next += 50) {
            std::vector<std::vector<uint8_t>> frames;
            for (uint32_t i = 0; i < 50; ++i) frames.push_back(FrameBuilder().ipv4(0xC6120000u + next + i).udp().build());
            sent += sender.sendBatch(frames);
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    });
    std::vector<std::thread> readers;
    for (int r = 0; r < 2; ++r)
        readers.emplace_back([&] {
            while (!done) {
                auto s = host.status();
                if (s.interfaces.size() != 1) ++badReads;
                ++statusReads;
            }
        });

    const char* plugins[] = {"fizzbuzz", "fibonacci", "fizz"};
    for (int i = 0; i < 12; ++i) CHECK(host.reload(configFor(veth.nameA(), plugins[i % 3], dir.path()), nullptr));
    done = true;
    traffic.join();
    for (auto& t : readers) t.join();

    // Every frame sent reached a classifier and was counted, across twelve swaps.
    uint64_t counted = 0;
    for (int i = 0; i < 500 && counted < sent; ++i) {
        counted = totalPackets(host.status());
        if (counted < sent) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(counted == sent);
    CHECK(statusReads > 0);
    CHECK(badReads == 0);
    host.stop();
}
