// The running host decodes through confined workers: real misbehaving plugins (built from
// tests/plugins/misbehaving_decoder.cpp), each on an interface of its own in one running host, beside
// a healthy plugin on another interface. Each bad decoder misbehaves on one marked message: the
// host keeps running, the healthy interface delivers every event, the bad plugin's other messages
// are delivered, and the marked one is counted undecodable with the reason, in the interface's
// counts and in the status's decoders section. And two ABI 1.0 versions of one plugin, under file
// names that say nothing about them, run as an A/B split with their decoders confined.
#include "support/cli_run.hpp"
#include "support/frame_builder.hpp"
#include "support/privilege.hpp"
#include "support/reference.hpp"
#include "support/wait.hpp"
#include "netns/daemon_lab.hpp"
#include "util/address.hpp"

#include <catch2/catch.hpp>
#include <pwd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>

using namespace fizzhost;
using namespace fizzhost::test;
using Catch::Matchers::Contains;

namespace {

const std::filesystem::path kBadPlugins = std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "decoders";
constexpr uint32_t kMarked = 0xC6120063;  // 198.18.0.99: the message each bad decoder misbehaves on

struct Misbehaviour {
    const char* plugin;
    const char* lastFailure;  // in its decoder's status (empty: the worker never dies)
};

const Misbehaviour kMisbehaviours[] = {
    {"bad-throws", ""},  // not noexcept: the SDK's trampoline catches it, the decoder refuses the message
    {"bad-throws-noexcept", "std::terminate"},
    {"bad-segv", "SIGSEGV"},
    {"bad-abort", "SIGABRT"},
    {"bad-loop", "hung"},
    {"bad-alloc", "out of memory"},
    {"bad-open", "openat"},
};

struct HostEvent {
    std::string iface, plugin, version, variant;
    uint32_t src = 0;
};

std::vector<HostEvent> readEvents(const std::filesystem::path& file) {
    std::vector<HostEvent> out;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (in.eof()) break;  // not complete yet
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);
        if (j.contains("rollout")) continue;
        auto src = parseAddress(j["src"].get<std::string>());
        REQUIRE(src);
        out.push_back({j["iface"], j["plugin"], j["version"], j["variant"], *src});
    }
    return out;
}

// `fizzhost status --config` against the lab's host: its text, and that it said which socket.
std::string runFizzhostStatus(const DaemonLab& lab) {
    const CliRun run = runFizzhost({"status", "--config", lab.configPath().string()});
    CHECK(run.status == 0);
    CHECK_THAT(run.err, Contains("status: control socket '") && Contains("(from " + lab.configPath().string() + ")"));
    return run.out;
}

std::vector<uint8_t> frame(uint32_t src) { return FrameBuilder().ipv4(src).udp().build(); }

const nlohmann::json* findDecoder(const nlohmann::json& status, const std::string& plugin,
                                  const std::string& version = "") {
    for (const auto& d : status["decoders"])
        if (d["plugin"] == plugin && (version.empty() || d["version"] == version)) return &d;
    return nullptr;
}

uint64_t undecodableOf(const nlohmann::json& decoder) {
    uint64_t n = 0;
    for (const auto& [reason, count] : decoder["undecodable"].items()) n += count.get<uint64_t>();
    return n;
}

const nlohmann::json* findInterface(const nlohmann::json& status, const std::string& name) {
    for (const auto& i : status["interfaces"])
        if (i["name"] == name) return &i;
    return nullptr;
}

}  // namespace

TEST_CASE("a running host contains each misbehaving decoder: it keeps running, another interface delivers every "
          "event, the bad plugin's other messages are delivered, the failure is counted and shown",
          "[daemon][decoder]") {
    if (!requirePrivilege("run fizzhost with confined decoders on veth pairs")) return;
    DaemonLab lab;
    // A plugin folder of our own: the healthy fizz and the misbehaving plugins.
    const auto plugins = lab.dir() / "plugins";
    std::filesystem::create_directory(plugins);
    std::filesystem::copy_file(std::filesystem::path(FIZZHOST_PLUGIN_DIR) / "fizz.so", plugins / "fizz.so");
    for (const auto& m : kMisbehaviours)
        std::filesystem::copy_file(kBadPlugins / (std::string(m.plugin) + ".so"), plugins / (std::string(m.plugin) + ".so"));

    std::vector<std::unique_ptr<VethPair>> veths;
    std::string body = interfaceTable(lab.ifname(), "fizz");
    for (const auto& m : kMisbehaviours) {
        veths.push_back(std::make_unique<VethPair>(lab.hostNs(), lab.peerNs()));
        body += interfaceTable(veths.back()->nameA(), m.plugin);
    }
    const auto eventsFile = lab.dir() / "host-events.jsonl";
    body += "[output]\nevents = \"" + eventsFile.string() + "\"\nformat = \"json\"\n";
    body += "[decoders]\nmemory_limit = \"128M\"\ndeadline_ms = 500\n";
    lab.writeConfig(body, plugins);
    lab.start();

    // Healthy traffic on the lab's interface, before, between and after the bad messages.
    const auto good = benchmarkSources(0x300, 600);
    size_t goodEmitting = 0;
    for (uint32_t s : good) goodEmitting += referenceKind("fizz", s).has_value();
    const size_t third = good.size() / 3;
    auto sendGood = [&](size_t from, size_t to) {
        lab.send(std::vector<uint32_t>(good.begin() + long(from), good.begin() + long(to)));
    };
    sendGood(0, third);

    // Each bad interface: 20 emitting sources (multiples of 3), the marked one, 20 more.
    std::vector<uint32_t> badSources;
    for (uint32_t k = 1; k <= 41; ++k) badSources.push_back(0xC6120000 + 3 * (33 - 21 + k));  // .39 .. .159
    REQUIRE(std::count(badSources.begin(), badSources.end(), kMarked) == 1);
    std::vector<std::vector<uint8_t>> badFrames;
    for (uint32_t s : badSources) badFrames.push_back(frame(s));
    for (const auto& v : veths) RawSender(lab.peerNs(), v->nameB()).sendBatch(badFrames);
    sendGood(third, 2 * third);

    // Every bad interface: its 40 other messages delivered, the marked one counted undecodable.
    const size_t wantBad = badSources.size() - 1;
    auto byIface = [&] {
        std::map<std::string, std::multiset<uint32_t>> out;
        for (const auto& e : readEvents(eventsFile)) out[e.iface].insert(e.src);
        return out;
    };
    auto undecodableOn = [&](const nlohmann::json& status, const std::string& ifname) -> uint64_t {
        const auto* i = findInterface(status, ifname);
        return i ? (*i)["totals"]["undecodable"].get<uint64_t>() : 0;
    };
    REQUIRE(waitUntil(
        [&] {
            const auto events = byIface();
            const auto status = lab.status();
            for (const auto& v : veths) {
                auto it = events.find(v->nameA());
                if (it == events.end() || it->second.size() < wantBad || undecodableOn(status, v->nameA()) < 1)
                    return false;
            }
            return true;
        },
        std::chrono::seconds(60)));
    sendGood(2 * third, good.size());
    REQUIRE(waitUntil([&] { return byIface()[lab.ifname()].size() >= goodEmitting; }, std::chrono::seconds(30)));

    const auto events = byIface();
    const auto status = lab.status();
    // It answered the status just now, and it exits cleanly below: the host kept running.
    // The healthy interface: every event, each once, none counted undecodable.
    CHECK(events.at(lab.ifname()).size() == goodEmitting);
    CHECK(undecodableOn(status, lab.ifname()) == 0);
    for (size_t i = 0; i < std::size(kMisbehaviours); ++i) {
        const auto& m = kMisbehaviours[i];
        const std::string& ifname = veths[i]->nameA();
        INFO("plugin " << m.plugin << " on " << ifname);
        const auto& got = events.at(ifname);
        CHECK(got.size() == wantBad);
        CHECK(got.count(kMarked) == 0);
        for (uint32_t s : badSources)
            if (s != kMarked) CHECK(got.count(s) == 1);
        CHECK(undecodableOn(status, ifname) == 1);
        const auto* d = findDecoder(status, m.plugin);
        REQUIRE(d);
        CHECK((*d)["confined"] == true);
        CHECK((*d)["disabled"] == false);
        if (*m.lastFailure) {
            // Died on the marked message, and once more on its retry: then counted, with the reason.
            CHECK((*d)["restarts"].get<uint64_t>() >= 2);
            CHECK_THAT((*d)["last_failure"].get<std::string>(), Contains(m.lastFailure));
            CHECK(undecodableOf(*d) == 1);
        } else {
            CHECK((*d)["restarts"] == 0);
            CHECK(undecodableOf(*d) == 0);  // the decoder itself refused it (FIZZHOST_DECODE_THREW)
        }
    }
    // The text status shows the same.
    const auto text = runFizzhostStatus(lab);
    CHECK_THAT(text, Contains("decoders:") && Contains("bad-segv 1.0.0: confined") && Contains("last: "));
    CHECK(lab.stop() == 0);
}

TEST_CASE("two ABI 1.0 versions of one plugin under file names of our choosing run as an A/B split, decoded by "
          "confined workers", "[daemon][decoder]") {
    if (!requirePrivilege("run fizzhost with confined decoders on a veth pair")) return;
    DaemonLab lab;
    const auto pair = std::filesystem::path(FIZZHOST_TEST_PLUGIN_DIR) / "legacy-pair";
    const std::filesystem::path marker = FIZZHOST_LEGACY_MARKER;
    std::error_code ec;
    std::filesystem::remove(marker, ec);
    lab.writeConfig(rolloutTable(lab.ifname(), "parity@1.1.0", "candidate = \"parity@1.2.0\"\npercent = 50\n"), pair);
    lab.start();
    const auto ifc = lab.interfaceStatus();
    REQUIRE(ifc["variants"].size() == 2);
    CHECK(ifc["variants"][0]["plugin"] == "parity");
    CHECK(ifc["variants"][0]["version"] == "1.1.0");
    CHECK(ifc["variants"][1]["version"] == "1.2.0");

    auto sources = benchmarkSources(0x500, 900);
    sources.push_back(kMarked);  // decodes to the uid its decoder's constructor ran as
    size_t emitting = 0;
    for (uint32_t s : sources) emitting += referenceKind("fizz", s).has_value();
    lab.send(sources);
    const auto events = lab.waitForEvents(emitting, std::chrono::seconds(30));
    REQUIRE(events.size() == emitting);
    const passwd* nobody = ::getpwnam("nobody");
    REQUIRE(nobody);
    std::map<std::string, size_t> perVersion;
    for (const auto& e : events) {
        ++perVersion[e.version];
        CHECK(e.plugin == "parity");
        // The marked message's source reads as the constructor's uid: never root's.
        if (e.src != kMarked && (e.src >> 16) != 0xC612) CHECK(e.src == nobody->pw_uid);
    }
    CHECK(perVersion["1.1.0"] > 0);
    CHECK(perVersion["1.2.0"] > 0);
    for (const auto& e : events) {
        const bool candidate = referenceToCandidate(e.src, 50);
        if ((e.src >> 16) == 0xC612 && e.src != kMarked) CHECK(e.version == (candidate ? "1.2.0" : "1.1.0"));
    }
    // The module code never ran as root: neither constructor could leave its marker.
    CHECK_FALSE(std::filesystem::exists(marker));
    const auto status = lab.status();
    for (const char* version : {"1.1.0", "1.2.0"}) {
        const auto* d = findDecoder(status, "parity", version);
        REQUIRE(d);
        CHECK((*d)["confined"] == true);
        CHECK((*d)["pid"].get<int64_t>() > 0);
    }
    CHECK(lab.stop() == 0);
}
