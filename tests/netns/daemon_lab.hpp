// A lab for daemon tests: two network namespaces joined by a veth pair, the real fizzhost binary
// running in one of them on its end, frames sent from the other, and the host's status read through
// its control socket. Everything is removed when the lab goes out of scope, whatever happened.
#pragma once

#include "service/control_server.hpp"
#include "support/bpffs_dir.hpp"
#include "support/config_text.hpp"
#include "support/daemon_process.hpp"
#include "support/netns.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace fizzhost::test {

struct Event {
    std::string plugin, version, variant, kind;
    uint32_t src = 0;
};

class DaemonLab {
public:
    DaemonLab();
    ~DaemonLab();

    /// Writes the config file: `body` is appended to the lab's common keys (plugin_dir, sockets,
    /// events file). Use ifname() for the interface table.
    void writeConfig(const std::string& body, const std::filesystem::path& pluginDir = FIZZHOST_PLUGIN_DIR);
    /// The message transport later configs use ("ring" or "queue").
    void setTransport(std::string transport) { transport_ = std::move(transport); }
    /// Starts `fizzhost --config` inside the host namespace and waits until it runs. Fails the test
    /// (with the daemon's stderr) otherwise.
    void start(const std::vector<std::string>& extraArgs = {});
    /// SIGHUP, then waits for the reload's outcome line; returns true when it completed.
    bool reload();
    /// SIGTERM and waits for exit; returns the exit status.
    int stop();

    nlohmann::json status() const;
    nlohmann::json interfaceStatus() const;  // the one interface
    /// Packets the interface counted since it was attached (retired program instances included).
    uint64_t packetsCounted() const { return countedTotal("packets"); }
    /// The interface's total of one counter ("packets", "emitted", "dropped", "delivered") since it
    /// was attached, retired program instances included.
    uint64_t countedTotal(const std::string& counter) const;
    /// Waits until the interface counted `packets` frames (or times out); returns the last count.
    uint64_t waitForPackets(uint64_t packets, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
    /// Waits until the events file holds `count` events (or times out).
    std::vector<Event> waitForEvents(size_t count, std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;
    std::vector<Event> events() const;
    /// The rollout decision records of the events file (the object under each line's "rollout").
    std::vector<nlohmann::json> records() const;

    /// Sends one UDP frame per source, in order, from the peer namespace; returns frames sent.
    size_t send(const std::vector<uint32_t>& sources);
    /// Sends the given Ethernet frames, in order, from the peer namespace; returns frames sent.
    size_t sendFrames(const std::vector<std::vector<uint8_t>>& frames);
    /// Deletes the veth pair (`ip link del` of the host end); send() then throws.
    void removeLink() { veth_->remove(); }
    /// Creates the veth pair again under the same names and rebinds the sender to the new peer
    /// end. Not while another thread is in send().
    void recreateLink() {
        sender_.reset();
        veth_->create();
        sender_.emplace(peerNs_, veth_->nameB());
    }

    const std::string& ifname() const { return veth_->nameA(); }
    const NetNs& hostNs() const { return hostNs_; }
    const NetNs& peerNs() const { return peerNs_; }
    DaemonProcess& daemon() { return *daemon_; }
    const std::filesystem::path& dir() const { return dir_.path(); }
    const std::filesystem::path& configPath() const { return config_; }
    /// The lab's own [service] state_root (pinned state), on bpffs.
    const std::filesystem::path& stateRoot() const { return stateRoot_.path(); }
    /// Pins and folders under the state root.
    size_t pinnedEntries() const { return stateRoot_.entries(); }
    /// XDP program id attached to the lab interface according to the kernel (0: none).
    uint32_t attachedProgramId() const;

private:
    NetNs hostNs_, peerNs_;
    std::optional<VethPair> veth_;
    TempDir dir_;
    BpffsDir stateRoot_;
    std::filesystem::path config_, events_, socket_;
    std::optional<DaemonProcess> daemon_;
    std::optional<RawSender> sender_;
    size_t reloadsSeen_ = 0;
    std::string transport_ = "ring";
};

/// Sources 198.18.0.0 + first .. + count - 1.
std::vector<uint32_t> benchmarkSources(uint32_t first, size_t count);

}  // namespace fizzhost::test
