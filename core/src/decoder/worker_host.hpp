// The host's side of one plugin module's worker: the shared area (rings that outlive workers), the
// chroot folder, the running process, and its supervision. A worker that crashes, aborts, makes a
// forbidden call, runs out of memory or hangs past the deadline is replaced; the message it died
// on gets a strike, and on its second strike the host writes "undecodable: <reason>" into that
// slot itself, so a message is retried once, never forever, and nothing else is lost (the other
// messages in flight are decoded again by the next worker). Restarts back off when workers die
// young, and past kMaxRestarts a minute the decoder is disabled for the rest of that minute: every
// message is then undecodable with the reason, instead of a fork bomb.
#pragma once

#include "decoder/decoder_stats.hpp"
#include "decoder/failure.hpp"
#include "decoder/module_root.hpp"
#include "decoder/shared_area.hpp"
#include "decoder/worker_environment.hpp"
#include "decoder/worker_process.hpp"
#include "plugin/plugin.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace fizzhost::decoder {

class WorkerHost {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr size_t kMaxRestarts = 30;  // per kRestartWindow
    static constexpr std::chrono::seconds kRestartWindow{60};
    static constexpr std::chrono::milliseconds kMaxBackoff{1000};

    /// Makes the area and the chroot folder; starts nothing. Throws Error naming the plugin.
    WorkerHost(std::shared_ptr<const plugin::Plugin> plugin, const WorkerEnvironment& env);
    ~WorkerHost();  // kills the worker
    WorkerHost(const WorkerHost&) = delete;
    WorkerHost& operator=(const WorkerHost&) = delete;

    /// Starts the first worker and waits until it is ready and its descriptor agrees with what the
    /// host knows of the plugin. Throws Error naming the plugin, its file and why it could not.
    void start();

    /// Takes a channel index (activated, head and done as they are: sequence numbers only grow).
    /// Throws Error when every one is in use. Any thread.
    uint32_t attach();
    /// Gives the index back. Any thread.
    void detach(uint32_t index) noexcept;

    /// Restarts, deadlines, strikes: never blocks for long (a restart is one posix_spawn).
    void supervise(Clock::time_point now) noexcept;

    /// The reason behind a slot the host marked kRcWorkerFailure (its event.kind).
    std::string_view verdict(uint32_t index) const noexcept;

    SharedArea& area() { return area_; }
    const plugin::Plugin& plugin() const { return *plugin_; }
    DecoderStats stats() const;
    size_t channels() const;

private:
    void spawn(Clock::time_point now);
    void onDeath(const WorkerExit& exit, Clock::time_point now);
    // Strikes the message the worker died on; true: its second strike, a verdict was written.
    // `onMessage`: the worker was on a message still pending.
    bool strike(const Failure& failure, bool& onMessage);
    void failPending(uint32_t verdictIndex) noexcept;
    std::optional<std::string> disagreement() const;  // the worker's description vs the plugin
    uint32_t verdictIndex(const std::string& reason);
    bool pending() const noexcept;

    std::shared_ptr<const plugin::Plugin> plugin_;
    WorkerEnvironment env_;
    std::string who_;
    SharedArea area_;
    ModuleRoot root_;
    mutable std::mutex mutex_;

    // Under mutex_.
    std::unique_ptr<WorkerProcess> process_;
    std::vector<uint32_t> free_;
    uint32_t next_ = 0;
    Clock::time_point startedAt_{}, nextStart_{}, progressSince_{}, disabledUntil_{};
    uint64_t progressAtStart_ = 0, lastProgress_ = 0;
    bool described_ = false, killedForHang_ = false, disabled_ = false;
    std::chrono::milliseconds hungFor_{0};
    uint32_t youngDeaths_ = 0;
    std::deque<Clock::time_point> restarts_;
    struct Strike {
        uint32_t channel;
        uint64_t seq;
    };
    std::optional<Strike> strike_;
    DecoderStats stats_;

    // Reasons of host-written verdicts, append-only: collect() reads them without a lock.
    static constexpr uint32_t kMaxVerdicts = 64;
    std::array<std::string, kMaxVerdicts> verdicts_;
    std::atomic<uint32_t> verdictCount_{0};
};

}  // namespace fizzhost::decoder
