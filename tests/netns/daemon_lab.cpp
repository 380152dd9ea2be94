#include "netns/daemon_lab.hpp"

#include "bpf/xdp_link.hpp"
#include "measure/frames.hpp"
#include "runtime/status/status_json.hpp"
#include "support/frame_builder.hpp"
#include "util/address.hpp"

#include <catch2/catch.hpp>
#include <net/if.h>
#include <csignal>

#include <fstream>
#include <sstream>

namespace fizzhost::test {

std::vector<uint32_t> benchmarkSources(uint32_t first, size_t count) {
    std::vector<uint32_t> out;
    for (size_t i = 0; i < count; ++i) out.push_back(0xC6120000u + first + uint32_t(i));
    return out;
}

DaemonLab::DaemonLab() {
    veth_.emplace(hostNs_, peerNs_);
    config_ = dir_.path() / "fizz.toml";
    events_ = dir_.path() / "events.jsonl";
    socket_ = dir_.path() / "control.sock";
    sender_.emplace(peerNs_, veth_->nameB());
}

DaemonLab::~DaemonLab() {
    if (daemon_) {
        daemon_->signal(SIGTERM);
        daemon_->waitExit(std::chrono::seconds(10));
    }
}

void DaemonLab::writeConfig(const std::string& text, const std::filesystem::path& pluginDir) {
    // Pinned state goes to the lab's own state root, never the machine's: added to the body's
    // [service] table, or as one of its own.
    const std::string stateRoot = "state_root = \"" + stateRoot_.path().string() + "\"\n";
    std::string body = text;
    if (auto at = body.find("[service]\n"); at != std::string::npos)
        body.insert(at + 10, stateRoot);
    else
        body += "\n[service]\n" + stateRoot;
    std::ofstream out(config_, std::ios::trunc);
    out << "plugin_dir = \"" << pluginDir.string() << "\"\n"
        << "queue_size = 65536\n"
        << "control_socket = \"" << socket_.string() << "\"\n"
        << body << "\n";
    // Events go to a file the test reads; [output] may be given by `body`, else this one.
    if (body.find("[output]") == std::string::npos)
        out << "[output]\nevents = \"" << events_.string() << "\"\nformat = \"json\"\ntransport = \"" << transport_
            << "\"\n";
}

void DaemonLab::start(const std::vector<std::string>& extraArgs) {
    std::vector<std::string> argv = {FIZZHOST_BINARY, "--config", config_.string()};
    argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
    daemon_.emplace(argv, dir_.path(), hostNs_.name());
    reloadsSeen_ = 0;  // a new process: its own reload lines
    if (!daemon_->waitForStderr("fizzhost running", std::chrono::seconds(20)))
        FAIL("fizzhost did not start:\n" << daemon_->stderrText());
}

bool DaemonLab::reload() {
    ++reloadsSeen_;
    daemon_->signal(SIGHUP);
    // Every SIGHUP ends in exactly one of these lines.
    auto outcomes = [&] {
        auto err = daemon_->stderrText();
        return std::pair{countOccurrences(err, "reload complete"), countOccurrences(err, "reload failed") +
                                                                       countOccurrences(err, "reload partly failed")};
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
        auto [ok, failed] = outcomes();
        if (ok + failed >= reloadsSeen_) {
            // The newest outcome decides.
            auto err = daemon_->stderrText();
            auto lastOk = err.rfind("reload complete");
            auto lastFail = std::max(err.rfind("reload failed") == std::string::npos ? 0 : err.rfind("reload failed"),
                                     err.rfind("reload partly failed") == std::string::npos ? 0 : err.rfind("reload partly failed"));
            return lastOk != std::string::npos && lastOk > lastFail;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("no reload outcome within 30 s:\n" << daemon_->stderrText());
    return false;
}

int DaemonLab::stop() {
    daemon_->signal(SIGTERM);
    auto st = daemon_->waitExit(std::chrono::seconds(20));
    if (!st) FAIL("fizzhost did not stop on SIGTERM:\n" << daemon_->stderrText());
    return *st;
}

nlohmann::json DaemonLab::status() const {
    auto doc = service::queryStatus(socket_);
    // What `fizzhost status` reads back must be what the host wrote, key for key, in every test.
    if (const auto back = runtime::toJson(runtime::hostStatusFromJson(doc)); back != doc)
        throw std::logic_error("the status JSON does not read back as written:\n" + doc.dump() + "\nread back:\n" +
                               back.dump());
    return doc;
}

nlohmann::json DaemonLab::interfaceStatus() const {
    auto s = status();
    REQUIRE(s["interfaces"].size() == 1);
    return s["interfaces"][0];
}

uint64_t DaemonLab::countedTotal(const std::string& counter) const {
    return interfaceStatus()["totals"][counter].get<uint64_t>();
}

uint64_t DaemonLab::waitForPackets(uint64_t packets, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    uint64_t seen = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        seen = packetsCounted();
        if (seen >= packets) return seen;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return seen;
}

std::vector<Event> DaemonLab::events() const {
    std::vector<Event> out;
    std::ifstream in(events_);
    std::string line;
    while (std::getline(in, line)) {
        // The daemon may be writing while this reads: a last line without its newline is not
        // complete yet and is read again next time.
        if (in.eof()) break;
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);
        if (j.contains("rollout")) continue;  // a rollout decision record (records()), not an event
        Event e{j["plugin"], j["version"], j["variant"], j["kind"], 0};
        auto src = parseAddress(j["src"].get<std::string>());
        REQUIRE(src);
        e.src = *src;
        REQUIRE(j["iface"] == ifname());
        out.push_back(e);
    }
    return out;
}

std::vector<nlohmann::json> DaemonLab::records() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(events_);
    std::string line;
    while (std::getline(in, line)) {
        if (in.eof()) break;  // not complete yet
        if (line.empty()) continue;
        auto j = nlohmann::json::parse(line);  // every line, event or record, must parse
        if (j.contains("rollout")) out.push_back(j["rollout"]);
    }
    return out;
}

std::vector<Event> DaemonLab::waitForEvents(size_t count, std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<Event> ev;
    while (std::chrono::steady_clock::now() < deadline) {
        ev = events();
        if (ev.size() >= count) return ev;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ev;
}

size_t DaemonLab::send(const std::vector<uint32_t>& sources) {
    std::vector<std::vector<uint8_t>> frames;
    frames.reserve(sources.size());
    for (uint32_t s : sources) frames.push_back(FrameBuilder().ipv4(s).udp().build());
    return sender_->sendBatch(frames);
}

uint32_t DaemonLab::attachedProgramId() const {
    ScopedNetns in(hostNs_);
    return bpf::attachedXdpProgramId(int(if_nametoindex(ifname().c_str())));
}

}  // namespace fizzhost::test
