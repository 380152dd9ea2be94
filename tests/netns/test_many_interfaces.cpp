// A host with 64 interfaces, functionally: the real daemon on 64 veth pairs (their host ends in one
// namespace, the peers in another), every interface attached and classifying the frames sent to it,
// one reload that swaps every interface's program on its kept link, `status` and a metrics scrape
// that list all 64, and the BPF maps the daemon holds, accounted per interface. No time is asserted:
// bench/many_interfaces.cpp measures how long each step takes.
#include "bpf/cpu_regions.hpp"
#include "bpf/map.hpp"
#include "bpf/xdp_link.hpp"
#include "measure/bpf_memory.hpp"
#include "service/control_request.hpp"
#include "service/control_server.hpp"
#include "support/bpffs_dir.hpp"
#include "support/daemon_process.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "support/veth_set.hpp"

#include <catch2/catch.hpp>
#include <net/if.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <thread>

using namespace fizzhost;
using namespace fizzhost::test;

namespace {

constexpr size_t kInterfaces = 64;
constexpr uint32_t kRingSlots = 4096;  // functional: 64 interfaces need not hold 20 ms of line rate
constexpr const char* kMetricsListen = "127.0.0.1:9464";
constexpr size_t kFramesPerInterface = 3;

// Sources of interface i in round r: 198.18.<i>.<r*16 ..>, three consecutive addresses, so exactly
// one of them is divisible by 3 and every classifier emits for it.
uint32_t source(size_t i, size_t round, size_t k) {
    return kTestNet | uint32_t(i) << 8 | uint32_t(round * 16 + k);
}

std::string hostConfig(const std::filesystem::path& dir, const std::filesystem::path& stateRoot, const VethSet& veths,
                   const char* classifier) {
    std::string c = "plugin_dir = \"" FIZZHOST_PLUGIN_DIR "\"\ncontrol_socket = \"" + (dir / "control.sock").string() +
                    "\"\n[output]\nring_slots = " + std::to_string(kRingSlots) + "\nevents = \"" +
                    (dir / "events.jsonl").string() + "\"\nformat = \"json\"\n[metrics]\nlisten = \"" + kMetricsListen +
                    "\"\n[service]\nstate_root = \"" + stateRoot.string() + "\"\n";
    for (const auto& name : veths.namesA()) c += "[interface." + name + "]\nclassifier = \"" + classifier + "\"\n";
    return c;
}

struct Written {
    std::string iface, plugin, kind;
    uint32_t src = 0;
};

std::vector<Written> events(const std::filesystem::path& file) {
    std::vector<Written> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        if (in.eof()) break;  // a line still being written
        auto j = nlohmann::json::parse(line);
        auto src = parseIpv4(j["src"].get<std::string>());
        REQUIRE(src);
        out.push_back({j["iface"], j["plugin"], j["kind"], *src});
    }
    return out;
}

template <typename Pred>
bool waitUntil(Pred pred, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred();
}

// Sends round `round`'s frames on every peer end, then checks that the events written are exactly
// those the reference predicts: per interface, its own sources that `plugin` emits for, each once.
void sendAndCheck(const NetNs& peerNs, const VethSet& veths, const std::filesystem::path& eventsFile, size_t round,
                  const std::string& plugin, size_t eventsBefore) {
    std::set<std::pair<std::string, uint32_t>> expected;
    for (size_t i = 0; i < veths.size(); ++i) {
        RawSender sender(peerNs, veths.nameB(i));
        for (size_t k = 0; k < kFramesPerInterface; ++k) {
            sender.send(FrameBuilder().ipv4(source(i, round, k)).udp().build());
            if (referenceKind(plugin, source(i, round, k))) expected.emplace(veths.nameA(i), source(i, round, k));
        }
    }
    REQUIRE(waitUntil([&] { return events(eventsFile).size() >= eventsBefore + expected.size(); }));
    const auto all = events(eventsFile);
    std::set<std::pair<std::string, uint32_t>> seen;
    std::set<std::string> interfaces;
    for (size_t e = eventsBefore; e < all.size(); ++e) {
        const auto& ev = all[e];
        INFO(ev.iface << " " << formatIpv4(ev.src) << " " << ev.plugin << " " << ev.kind);
        CHECK(ev.plugin == plugin);
        CHECK(referenceKind(plugin, ev.src) == ev.kind);
        CHECK(seen.emplace(ev.iface, ev.src).second);  // once
        interfaces.insert(ev.iface);
    }
    CHECK(seen == expected);
    CHECK(interfaces.size() == veths.size());  // every interface emitted (each round holds a multiple of 3)
}

std::map<std::string, nlohmann::json> interfacesByName(const nlohmann::json& status) {
    std::map<std::string, nlohmann::json> out;
    for (const auto& ifc : status["interfaces"]) out[ifc["name"]] = ifc;
    return out;
}

}  // namespace

TEST_CASE(
    "64 interfaces: all attached, each classifies its own frames, one reload swaps every program on its kept "
    "link, status and metrics list all 64",
    "[daemon]") {
    if (!requirePrivilege("run fizzhost on 64 veth pairs")) return;
    NetNs hostNs, peerNs;
    VethSet veths(hostNs, peerNs, kInterfaces);
    TempDir dir;
    BpffsDir stateRoot;
    const auto configPath = dir.path() / "many.toml", eventsFile = dir.path() / "events.jsonl",
               socket = dir.path() / "control.sock";
    std::ofstream(configPath) << hostConfig(dir.path(), stateRoot.path(), veths, "fizz");
    DaemonProcess daemon({FIZZHOST_BINARY, "--config", configPath.string()}, dir.path(), hostNs.name());
    if (!daemon.waitForStderr("fizzhost running with 64 interface(s)", std::chrono::seconds(60)))
        FAIL("fizzhost did not start on 64 interfaces:\n" << daemon.stderrText());

    // Attached: status and the kernel agree, interface by interface.
    auto before = interfacesByName(service::queryStatus(socket));
    REQUIRE(before.size() == kInterfaces);
    std::set<uint32_t> linkIds;
    {
        ScopedNetns in(hostNs);
        for (size_t i = 0; i < kInterfaces; ++i) {
            INFO(veths.nameA(i));
            REQUIRE(before.count(veths.nameA(i)));
            const auto& ifc = before[veths.nameA(i)];
            CHECK(ifc["state"] == "attached");
            CHECK(ifc["variants"][0]["plugin"] == "fizz");
            CHECK(bpf::attachedXdpProgramId(veths.ifindexA(i)) == ifc["program_id"].get<uint32_t>());
            linkIds.insert(ifc["link_id"].get<uint32_t>());
        }
    }
    CHECK(linkIds.size() == kInterfaces);

    sendAndCheck(peerNs, veths, eventsFile, 0, "fizz", 0);

    // One reload changes every interface's classifier, each with one update of its kept link.
    std::ofstream(configPath, std::ios::trunc) << hostConfig(dir.path(), stateRoot.path(), veths, "fizzbuzz");
    const auto answer = service::requestReload(socket, std::chrono::seconds(120));
    INFO(answer.message << "\n" << daemon.stderrText());
    REQUIRE(answer.outcome == service::ReloadAnswer::Outcome::Live);
    auto after = interfacesByName(service::queryStatus(socket));
    REQUIRE(after.size() == kInterfaces);
    {
        ScopedNetns in(hostNs);
        for (size_t i = 0; i < kInterfaces; ++i) {
            const auto& name = veths.nameA(i);
            INFO(name);
            CHECK(after[name]["link_id"] == before[name]["link_id"]);
            CHECK(after[name]["program_id"] != before[name]["program_id"]);
            CHECK(after[name]["variants"][0]["plugin"] == "fizzbuzz");
            CHECK(bpf::attachedXdpProgramId(veths.ifindexA(i)) == after[name]["program_id"].get<uint32_t>());
        }
    }
    sendAndCheck(peerNs, veths, eventsFile, 1, "fizzbuzz", kInterfaces);

    // The status counts every frame of both rounds, per interface.
    REQUIRE(waitUntil([&] {
        for (const auto& [name, ifc] : interfacesByName(service::queryStatus(socket)))
            if (ifc["totals"]["packets"] != 2 * kFramesPerInterface) return false;
        return true;
    }));

    // A scrape has every interface's series (queried from the host namespace, where the listener is).
    const auto metrics = run({"ip", "netns", "exec", hostNs.name(), "curl", "-sS", "--max-time", "10",
                              std::string("http://") + kMetricsListen + "/metrics"});
    std::set<std::string> scraped;
    const std::string series = "fizzhost_packets_total{interface=\"";
    for (size_t at = 0; (at = metrics.out.find(series, at)) != std::string::npos;) {
        at += series.size();
        scraped.insert(metrics.out.substr(at, metrics.out.find('"', at) - at));
    }
    CHECK(scraped == std::set<std::string>(veths.namesA().begin(), veths.namesA().end()));

    // The BPF maps the daemon holds, per interface: each link reaches its own regions map, at least
    // possible CPUs x one region of kRingSlots 8-byte slots (the sizing rule), and the same for all.
    const auto memory = measure::bpfMemory(daemon.pid(), stateRoot.path());
    REQUIRE(memory.interfaces.size() == kInterfaces);
    const uint64_t regions = uint64_t(bpf::possibleCpus()) * bpf::regionBytes(8, kRingSlots);
    std::set<std::string> accounted;
    for (const auto& ifc : memory.interfaces) {
        INFO(ifc.ifname << ": " << ifc.bytes << " bytes in " << ifc.maps << " maps");
        accounted.insert(ifc.ifname);
        CHECK(ifc.bytes >= regions);
        CHECK(ifc.bytes == memory.interfaces.front().bytes);
    }
    CHECK(accounted == std::set<std::string>(veths.namesA().begin(), veths.namesA().end()));
    CHECK(memory.totalBytes >= kInterfaces * regions + memory.unattachedBytes);

    daemon.signal(SIGTERM);
    REQUIRE(daemon.waitExit(std::chrono::seconds(60)) == 0);
    ScopedNetns in(hostNs);
    for (size_t i = 0; i < kInterfaces; ++i) CHECK(bpf::attachedXdpProgramId(veths.ifindexA(i)) == 0);
}
