// The daemon beside other programs on a node, with real programs on a veth pair: at tc ingress
// between foreign tcx programs, in front of a pinned XDP program it chains to, after someone else
// detached its link, and refused over a foreign XDP program.
#include "bpf/pin.hpp"
#include "bpf/tcx_link.hpp"
#include "bpf/xdp_link.hpp"
#include "netns/daemon_lab.hpp"
#include "support/bpffs_dir.hpp"
#include "support/foreign_programs.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "support/wait.hpp"

#include <catch2/catch.hpp>
#include <net/if.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>
#include <utility>

using namespace fizzhost;
using namespace fizzhost::test;
using Where = bpf::TcxPlacement::Where;

namespace {

constexpr uint16_t kDropBefore = 7001, kDropAfter = 7002, kChainDrops = 7003;

std::vector<std::vector<uint8_t>> udpFrames(uint32_t firstSource, size_t count, uint16_t dport = kDefaultDport) {
    std::vector<std::vector<uint8_t>> out;
    for (uint32_t s : benchmarkSources(firstSource, count)) out.push_back(FrameBuilder().ipv4(s).udp(kDefaultSport, dport).build());
    return out;
}

int labIfindex(const DaemonLab& lab) {
    ScopedNetns in(lab.hostNs());
    return int(if_nametoindex(lab.ifname().c_str()));
}

// Frames sent from the peer while the test swaps: a few every few milliseconds (a steady trickle,
// not a flood the pump would have to catch up with), to the port given, until stopped.
class Trickle {
public:
    Trickle(DaemonLab& lab, uint16_t dport, uint16_t everyNthToDrop = 0, uint16_t dropPort = 0)
        : thread_([this, &lab, dport, everyNthToDrop, dropPort] {
              uint32_t n = 0;
              while (!stop_) {
                  std::vector<std::vector<uint8_t>> batch;
                  for (int i = 0; i < 4; ++i, ++n) {
                      const bool drop = everyNthToDrop && n % everyNthToDrop == 0;
                      batch.push_back(FrameBuilder().ipv4(0xC6120000u + 0x4000 + (n & 0x3fff)).udp(kDefaultSport, drop ? dropPort : dport).build());
                      (drop ? toDrop_ : toPass_) += 1;
                  }
                  lab.sendFrames(batch);
                  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // pacing, not ordering
              }
          }) {}
    ~Trickle() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    uint64_t sent() const { return toPass_ + toDrop_; }
    uint64_t sentToDrop() const { return toDrop_; }

private:
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> toPass_{0}, toDrop_{0};
    std::thread thread_;
};

}  // namespace

TEST_CASE("hook = tc: between foreign tcx programs before and after ours, frames are counted by all three through "
          "100 swaps, foreign inserts and removals, and a rollout, none lost",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost at tc ingress on a veth pair beside foreign tcx programs")) return;
    DaemonLab lab;
    const int ifindex = labIfindex(lab);
    ForeignTc before(kDropBefore), after(kDropAfter);
    std::optional<bpf::TcxLink> beforeLink, afterLink;
    {
        ScopedNetns in(lab.hostNs());
        beforeLink.emplace(bpf::attachTcxAt(before.fd(), ifindex, lab.ifname(), {Where::Last, "", ""}));
    }
    const std::string tc = "hook = \"tc\"\nplace = \"last\"\n";
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz", tc));
    lab.start();
    auto ifc = lab.interfaceStatus();
    CHECK(ifc["hook"] == "tc");
    CHECK(ifc["mode"] == "tcx");
    CHECK(ifc["place"] == "last");
    const auto linkId = ifc["link_id"];
    {
        ScopedNetns in(lab.hostNs());
        afterLink.emplace(bpf::attachTcxAt(after.fd(), ifindex, lab.ifname(), {Where::Last, "", ""}));
        const auto hook = bpf::queryTcx(ifindex);
        REQUIRE(hook.entries.size() == 3);  // theirs, ours, theirs
        CHECK(hook.entries[0].programId == bpf::programId(before.fd()));
        CHECK(hook.entries[1].linkId == linkId.get<uint32_t>());
        CHECK(hook.entries[2].programId == bpf::programId(after.fd()));
    }

    // Each program sees what the ones before it pass on; each drops its own port.
    lab.sendFrames(udpFrames(0x100, 300));
    lab.sendFrames(udpFrames(0x200, 50, kDropBefore));
    lab.sendFrames(udpFrames(0x300, 70, kDropAfter));
    CHECK(lab.waitForPackets(370) == 370);  // not the 50 the first one dropped
    CHECK(waitUntil([&] { return after.counts().packets >= 370; }));
    CHECK(before.counts().dropped == 50);
    CHECK(before.counts().packets >= 420);
    CHECK(after.counts().dropped == 70);
    CHECK(after.counts().packets == before.counts().packets - 50);

    // 100 swaps under traffic while another program is inserted first on the hook and removed
    // again, over and over: the hook's revision keeps changing under our updates.
    const auto countedBefore = lab.packetsCounted();
    const auto afterBefore = after.counts().packets;
    std::atomic<bool> churning{true};
    std::atomic<int> churns{0};
    std::thread churn([&] {
        ForeignTc third(7009);  // drops a port nothing is sent to
        ScopedNetns in(lab.hostNs());
        while (churning) {
            auto link = bpf::attachTcxAt(third.fd(), ifindex, lab.ifname(), {Where::First, "", ""});
            std::this_thread::sleep_for(std::chrono::milliseconds(3));
            link.detach();
            ++churns;
        }
    });
    Trickle trickle(lab, kDefaultDport);
    int swaps = 0;
    for (int i = 0; i < 100; ++i) {
        lab.writeConfig(interfaceTable(lab.ifname(), i % 2 == 0 ? "fibonacci" : "fizzbuzz", tc));
        if (lab.reload()) ++swaps;
    }
    // A rollout on the tc hook: the dispatcher loaded for tc, then promoted.
    lab.writeConfig(rolloutTable(lab.ifname(), "fizzbuzz", "candidate = \"fibonacci\"\npercent = 50\n").insert(
        interfaceTable(lab.ifname(), "fizzbuzz").size(), tc));
    CHECK(lab.reload());
    ifc = lab.interfaceStatus();
    CHECK(ifc["percent"] == 50);
    CHECK(ifc["link_id"] == linkId);
    CHECK(waitUntil([&] {
        const auto v = lab.interfaceStatus()["variants"];
        return v.size() == 2 && v[0]["packets"].get<uint64_t>() > 0 && v[1]["packets"].get<uint64_t>() > 0;
    }));
    lab.writeConfig(interfaceTable(lab.ifname(), "fibonacci", tc));
    CHECK(lab.reload());
    trickle.stop();
    churning = false;
    churn.join();
    CHECK(swaps == 100);
    CHECK(churns > 0);
    ifc = lab.interfaceStatus();
    CHECK(ifc["link_id"] == linkId);  // one link through every swap
    CHECK_FALSE(ifc.contains("percent"));
    CHECK(ifc["variants"][0]["plugin"] == "fibonacci");
    // None lost: every frame sent during the swaps was counted by us and by the program after us.
    const uint64_t sent = trickle.sent();
    CHECK(lab.waitForPackets(countedBefore + sent) == countedBefore + sent);
    CHECK(waitUntil([&] { return after.counts().packets >= afterBefore + sent; }));
    CHECK(after.counts().packets == afterBefore + sent);
    CHECK(lab.countedTotal("dropped") == 0);
    std::printf("tc hook: %d swaps + a rollout, %llu frames under traffic, %d foreign inserts/removals: all counted\n",
                swaps, static_cast<unsigned long long>(sent), churns.load());
}

TEST_CASE("then: a pinned XDP program dropping one UDP port runs behind each shipped classifier and the A/B "
          "dispatcher through swaps; dropped frames are still classified, the rest pass",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on XDP chained to a pinned program on a veth pair")) return;
    DaemonLab lab;
    BpffsDir pins;
    ChainNext next("chain_drop_port", kChainDrops);
    const auto pin = pins.path() / "next";
    bpf::pinObject(next.fd(), pin);
    const std::string then = "then = \"" + pin.string() + "\"\n";
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz", then));
    lab.start();
    auto ifc = lab.interfaceStatus();
    CHECK(ifc["hook"] == "xdp");
    CHECK(ifc["chain"]["then"] == pin.string());
    CHECK(ifc["chain"]["program_id"] == bpf::programId(next.fd()));
    const auto linkId = ifc["link_id"];
    RawReceiver passed(lab.hostNs(), lab.ifname());

    // One frame in 5 goes to the port the chained program drops.
    Trickle trickle(lab, kDefaultDport, 5, kChainDrops);
    auto stage = [&](const std::string& config) {
        INFO(config);
        lab.writeConfig(config);
        REQUIRE(lab.reload());
        const auto seen = lab.packetsCounted();
        const bool moving = waitUntil([&] { return lab.packetsCounted() > seen + 40; });  // traffic through the new state
        INFO(lab.interfaceStatus().dump());
        REQUIRE(moving);
    };
    REQUIRE(waitUntil([&] { return lab.packetsCounted() > 40; }));
    for (const char* classifier : {"fizzbuzz", "fibonacci", "fizz"})
        stage(interfaceTable(lab.ifname(), classifier, then));
    const std::string rolloutHead = interfaceTable(lab.ifname(), "fizz");
    for (const char* rollout : {"candidate = \"fibonacci\"\npercent = 30\n", "candidate = \"fibonacci\"\npercent = 80\n",
                                "candidate = \"fizzbuzz\"\nmode = \"shadow\"\n"})
        stage(rolloutTable(lab.ifname(), "fizz", rollout).insert(rolloutHead.size(), then));
    stage(interfaceTable(lab.ifname(), "fizzbuzz", then));  // out of the rollout, still chained
    trickle.stop();

    ifc = lab.interfaceStatus();
    CHECK(ifc["link_id"] == linkId);
    CHECK(ifc["chain"]["program_id"] == bpf::programId(next.fd()));
    const uint64_t sent = trickle.sent(), dropped = trickle.sentToDrop();
    // Every frame classified once and handed on exactly once: never skipped, never twice.
    CHECK(lab.waitForPackets(sent) == sent);
    CHECK(waitUntil([&] { return next.counts().frames >= sent; }));
    CHECK(next.counts().frames == sent);
    CHECK(next.counts().dropped == dropped);
    // The chained program's verdict is the frame's: what it passed reached the stack, nothing else.
    uint64_t arrived = 0, arrivedDropPort = 0;
    while (auto f = passed.receive(std::chrono::milliseconds(300))) {
        if (f->size() < 38 || (*f)[12] != 0x08 || (*f)[13] != 0x00 || (*f)[23] != 17) continue;  // IPv4/UDP only
        const uint16_t dport = uint16_t((*f)[36] << 8 | (*f)[37]);
        if (dport == kChainDrops) ++arrivedDropPort;
        else if (dport == kDefaultDport) ++arrived;
    }
    CHECK(passed.dropped() == 0);
    CHECK(arrivedDropPort == 0);
    CHECK(arrived == sent - dropped);
    std::printf("chain: %llu frames through 7 swaps, %llu dropped by the chained program, all classified\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(dropped));
}

TEST_CASE("a link detached by another process under traffic is re-attached within a second, or stays off with "
          "on_detach = \"stay_off\" until a reload",
          "[daemon]") {
    if (!requirePrivilege("run fizzhost on a veth pair and detach its link with bpftool")) return;
    DaemonLab lab;
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz"));
    lab.start();
    const auto first = lab.interfaceStatus();
    CHECK(first["detaches"] == 0);
    CHECK(first["on_detach"] == "reattach");
    Trickle trickle(lab, kDefaultDport);
    REQUIRE(waitUntil([&] { return lab.packetsCounted() > 100; }));

    const uint64_t sentAtDetach = trickle.sent(), countedAtDetach = lab.packetsCounted();
    run({"bpftool", "link", "detach", "id", std::to_string(first["link_id"].get<uint32_t>())});
    REQUIRE(waitUntil([&] { return lab.interfaceStatus()["detaches"] == 1; }, std::chrono::seconds(5)));
    auto ifc = lab.interfaceStatus();
    CHECK_FALSE(ifc.contains("off"));
    CHECK(ifc["link_id"] != first["link_id"]);              // a new link ...
    CHECK(ifc["program_id"] == first["program_id"]);        // ... running the same program
    CHECK(lab.attachedProgramId() == first["program_id"].get<uint32_t>());
    CHECK(lab.daemon().waitForStderr("was detached by another process", std::chrono::seconds(5)));
    CHECK(lab.daemon().waitForStderr("attached again", std::chrono::seconds(5)));
    const auto seen = lab.packetsCounted();
    CHECK(waitUntil([&] { return lab.packetsCounted() > seen + 100; }));  // classifying again
    // The gap: frames sent between the detach and the re-attach that met no classifier (give or
    // take the batch in flight when the two figures were read).
    const uint64_t gap = (trickle.sent() - sentAtDetach) - (lab.packetsCounted() - countedAtDetach);
    std::printf("detach: re-attached after a foreign bpf_link_detach under traffic; %llu frames passed "
                "unclassified in the gap (%llu sent meanwhile)\n",
                static_cast<unsigned long long>(gap), static_cast<unsigned long long>(trickle.sent() - sentAtDetach));

    // stay_off: the next detach leaves it off, shown in status, until a reload.
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz", "on_detach = \"stay_off\"\n"));
    REQUIRE(lab.reload());
    run({"bpftool", "link", "detach", "id", std::to_string(ifc["link_id"].get<uint32_t>())});
    REQUIRE(waitUntil([&] { return lab.interfaceStatus()["detaches"] == 2; }, std::chrono::seconds(5)));
    ifc = lab.interfaceStatus();
    REQUIRE(ifc.contains("off"));
    CHECK_THAT(ifc["off"].get<std::string>(), Catch::Contains("stay_off"));
    CHECK(lab.attachedProgramId() == 0);
    const auto offAt = lab.packetsCounted();
    CHECK(holdsFor([&] { return lab.packetsCounted() == offAt; }, std::chrono::milliseconds(500)));
    REQUIRE(lab.reload());  // attaches it again
    ifc = lab.interfaceStatus();
    CHECK_FALSE(ifc.contains("off"));
    CHECK(lab.attachedProgramId() == first["program_id"].get<uint32_t>());
    CHECK(waitUntil([&] { return lab.packetsCounted() > offAt + 100; }));
    trickle.stop();
    // The gap: frames that arrived while no link was attached passed unclassified.
    const uint64_t sent = trickle.sent();
    uint64_t counted = 0;
    REQUIRE(waitUntil([&] {  // the count stopped moving: every frame sent has met the hook
        const uint64_t now = lab.packetsCounted();
        return std::exchange(counted, now) == now;
    }));
    REQUIRE(counted <= sent);
    std::printf("detach: %llu frames sent in all, %llu classified: %llu passed unclassified over the re-attach gap and "
                "the stay_off period\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(counted),
                static_cast<unsigned long long>(sent - counted));
}

TEST_CASE("a foreign XDP program is refused with its id, name, how it is attached and the two ways forward; "
          "hook = \"tc\" runs beside it",
          "[daemon]") {
    if (!requirePrivilege("attach a foreign XDP program on a veth pair and start fizzhost")) return;
    DaemonLab lab;
    ChainNext theirs("chain_drop_port", kChainDrops);
    std::optional<bpf::XdpLink> theirLink;
    {
        ScopedNetns in(lab.hostNs());
        theirLink.emplace(bpf::XdpLink::attach(theirs.fd(), labIfindex(lab), lab.ifname(), bpf::XdpMode::Native));
    }
    const uint32_t theirId = bpf::programId(theirs.fd());
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz"));
    {
        DaemonProcess d({FIZZHOST_BINARY, "--config", lab.configPath().string()}, lab.dir(), lab.hostNs().name());
        REQUIRE(d.waitExit(std::chrono::seconds(20)) == 1);
        const std::string err = d.stderrText();
        INFO(err);
        CHECK_THAT(err, Catch::Contains("already has XDP program 'chain_drop_port' (id " + std::to_string(theirId)));
        CHECK_THAT(err, Catch::Contains("through bpf_link id " + std::to_string(theirLink->id())));
        CHECK_THAT(err, Catch::Contains("does not replace a program it does not own"));
        CHECK_THAT(err, Catch::Contains("hook = \"tc\""));
        CHECK_THAT(err, Catch::Contains("then = \"/sys/fs/bpf/<name>\""));
    }
    CHECK(lab.attachedProgramId() == theirId);  // theirs, untouched
    // The first way forward: at tc ingress, beside it, on what it passes.
    lab.writeConfig(interfaceTable(lab.ifname(), "fizz", "hook = \"tc\"\n"));
    lab.start();
    lab.sendFrames(udpFrames(0x100, 20));
    lab.sendFrames(udpFrames(0x200, 10, kChainDrops));
    CHECK(lab.waitForPackets(20) == 20);  // what XDP dropped never reaches tc
    CHECK(theirs.counts().frames >= 30);
    CHECK(lab.attachedProgramId() == theirId);
}

TEST_CASE("hook = tc: a restart with on_exit = \"keep\" adopts the pinned tcx link, its id and place kept", "[daemon]") {
    if (!requirePrivilege("run fizzhost at tc ingress on a veth pair and restart it")) return;
    DaemonLab lab;
    const int ifindex = labIfindex(lab);
    const std::string config = "[service]\non_exit = \"keep\"\n" +
                               interfaceTable(lab.ifname(), "fizzbuzz", "hook = \"tc\"\nplace = \"first\"\n");
    lab.writeConfig(config);
    lab.start();
    const auto before = lab.interfaceStatus();
    lab.sendFrames(udpFrames(0x100, 50));
    CHECK(lab.waitForPackets(50) == 50);
    CHECK(lab.stop() == 0);
    {
        ScopedNetns in(lab.hostNs());
        const auto hook = bpf::queryTcx(ifindex);  // left running while no host runs
        REQUIRE(hook.entries.size() == 1);
        CHECK(hook.entries[0].linkId == before["link_id"].get<uint32_t>());
    }
    lab.sendFrames(udpFrames(0x200, 30));  // classified with no host running, counted in the pinned regions
    lab.start();
    CHECK(lab.daemon().waitForStderr("adopted pinned state", std::chrono::seconds(5)));
    const auto after = lab.interfaceStatus();
    CHECK(after["hook"] == "tc");
    CHECK(after["mode"] == "tcx");
    CHECK(after["link_id"] == before["link_id"]);
    CHECK(lab.waitForPackets(80) == 80);
    // Leave nothing behind: detach at exit this time.
    lab.writeConfig(interfaceTable(lab.ifname(), "fizzbuzz", "hook = \"tc\"\nplace = \"first\"\n"));
    REQUIRE(lab.reload());
    CHECK(lab.stop() == 0);
    ScopedNetns in(lab.hostNs());
    CHECK(bpf::queryTcx(ifindex).entries.empty());
}
