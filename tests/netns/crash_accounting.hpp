// Every frame accounted for across host crashes: a lab with on_exit = "keep", a steady stream of
// frames every classifier under test emits a message for, and the books at the end (frames sent,
// events delivered, messages counted as lost, what is missing without being counted). Used by the
// crash tests (test_crash.cpp) and the chaos test (test_chaos.cpp).
#pragma once

#include "netns/daemon_lab.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace fizzhost::test {

/// Sources from 198.18.0.0/15 that fizz, fizzbuzz and fibonacci all emit a message for, in order,
/// never the same one twice: every frame of a run is one event, from whichever variant ran.
class AccountedSources {
public:
    /// The next `count` sources.
    std::vector<uint32_t> next(size_t count);
    uint64_t handedOut() const { return handed_; }

private:
    uint32_t index_ = 0;
    uint64_t handed_ = 0;
};

/// A sender thread: batches of `perBatch` accounted sources every `everyMs` until stop().
class SteadyTraffic {
public:
    SteadyTraffic(DaemonLab& lab, AccountedSources& sources, size_t perBatch, unsigned everyMs);
    ~SteadyTraffic();
    void stop();
    uint64_t sent() const { return sent_; }

private:
    DaemonLab& lab_;
    AccountedSources& sources_;
    std::atomic<bool> done_{false};
    std::atomic<uint64_t> sent_{0};
    std::thread thread_;
};

struct FrameBooks {
    uint64_t sent = 0, delivered = 0, duplicated = 0, countedLost = 0, silentlyLost = 0;
    std::vector<std::string> lossReasons;  // from status: lost_at_start
};

/// The lab's daemon kept every frame it could: waits until the events file holds `sent` events
/// (or stops growing), then reads the books. `countedLost` is the interface's dropped total plus
/// what the start counted as lost (status "lost_at_start").
FrameBooks closeBooks(DaemonLab& lab, uint64_t sent, uint64_t lostBefore = 0);

/// Messages a daemon's log says it counted as lost at start with an unknown number.
size_t unknownLosses(const std::string& stderrText);

/// Config text: the lab's interface with `classifier`, or a rollout to `candidate` at `percent`.
std::string crashConfig(const DaemonLab& lab, const std::string& classifier, const std::string& candidate = "",
                        unsigned percent = 0);

/// Waits for the daemon to die of SIGKILL (a failure point named =kill). Fails the test otherwise.
void expectKilled(DaemonLab& lab);

}  // namespace fizzhost::test
