// Helpers for daemon tests of progressive rollouts: steady traffic from the peer until the test
// stops it, waiting on the status or on a decision record, and the decisions in order.
#pragma once

#include "netns/daemon_lab.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace fizzhost::test {

// Frames from the peer until stopped: batch after batch from `nextBatch` (given the batch's
// number), paced so the two test cores are not saturated.
class RolloutTraffic {
public:
    RolloutTraffic(DaemonLab& lab, std::function<std::vector<uint32_t>(uint64_t)> nextBatch)
        : thread_([this, &lab, next = std::move(nextBatch)] {
              for (uint64_t n = 0; !stop_; ++n) {
                  sent_ += lab.send(next(n));
                  std::this_thread::sleep_for(std::chrono::milliseconds(2));
              }
          }) {}
    /// The same `sources` over and over.
    RolloutTraffic(DaemonLab& lab, std::vector<uint32_t> sources)
        : RolloutTraffic(lab, [s = std::move(sources)](uint64_t) { return s; }) {}
    ~RolloutTraffic() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    uint64_t sent() const { return sent_; }
    /// Waits until `frames` more frames than now were sent.
    void waitForMore(uint64_t frames) const {
        const uint64_t mark = sent_ + frames;
        while (sent_ < mark) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }

private:
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> sent_{0};
    std::thread thread_;  // last: started once the counters exist
};

/// Polls the interface's status until `done` holds; fails the test (with the log) after `timeout`.
inline nlohmann::json waitForInterfaceStatus(DaemonLab& lab, const std::function<bool(const nlohmann::json&)>& done,
                                             const char* what, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    nlohmann::json s;
    while (std::chrono::steady_clock::now() < deadline) {
        s = lab.interfaceStatus();
        if (done(s)) return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("no " << what << " within " << timeout.count() << " s; status: " << s.dump() << "\nlog:\n"
               << lab.daemon().stderrText());
    return s;
}

/// The progressive rollout's stage in an interface status ("" without one).
inline std::string rolloutStage(const nlohmann::json& ifc) {
    return ifc.contains("progressive") ? ifc["progressive"].value("stage", std::string()) : std::string();
}

/// The decision records in the order they were recorded, holds left out (how many a stage sees
/// depends on the machine's pace).
inline std::vector<nlohmann::json> rolloutDecisions(const DaemonLab& lab) {
    std::vector<nlohmann::json> out;
    for (auto& r : lab.records()) {
        REQUIRE(r["interface"] == lab.ifname());
        if (r["decision"] != "hold") out.push_back(r);
    }
    return out;
}

/// Waits until the events file holds a record of `decision` and returns it (the pump writes
/// records on its next pass).
inline nlohmann::json waitForDecision(const DaemonLab& lab, const std::string& decision) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
        for (const auto& r : lab.records())
            if (r["decision"] == decision) return r;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("no '" << decision << "' record in the events file");
    return {};
}

}  // namespace fizzhost::test
