// Where plugin decoders run for one host. Confined by default (`[decoders] isolation = "process"`):
// one worker process per plugin module (name, version, sha256) that holds no capabilities, runs as
// an unprivileged user in a chroot holding only the module, under a seccomp filter, with its memory
// bounded; the host keeps the kernel side, the output and the counters. Trusted plugins may opt out
// (`isolation = "none"`): the same channels, decoded in this process.
//
//     DecoderService decoders(settings);
//     auto channel = decoders.open(plugin);          // spawns the plugin's worker on first use
//     for (...) channel->submit(raw, size);          // the pump, per message: copies, never blocks
//     channel->publish();                            // per batch
//     decoders.supervise(now);                       // per pump round: restarts, deadlines
//     channel->collect(max, [&](const DecodeResult& r) { ... });   // in order
//
// Threading: open() and stats() from any thread; supervise() and each channel from one thread
// (the pump). Workers are spawned from the threads that call open() and supervise(): they get
// SIGKILL when that thread ends (parent-death signal), so call them from threads that live as long
// as the service.
#pragma once

#include "decoder/decoder_channel.hpp"
#include "decoder/decoder_stats.hpp"
#include "decoder/worker_environment.hpp"
#include "plugin/plugin.hpp"
#include "util/decoder_settings.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace fizzhost::decoder {

class WorkerHost;

class DecoderService {
public:
    /// Nothing starts yet. `allowInsecure` (development: insecure plugin mode) logs trust problems
    /// with the worker executable and the root folder instead of refusing them.
    explicit DecoderService(DecoderSettings settings, bool allowInsecure = false);
    ~DecoderService();  // kills the workers
    DecoderService(const DecoderService&) = delete;
    DecoderService& operator=(const DecoderService&) = delete;

    /// A channel to `plugin`'s decoder. Confined: starts the plugin's worker when it has none and
    /// waits until it is ready (at most kLoadDeadline). In-process: loads the plugin's code here if
    /// it is not loaded yet. Throws Error naming the plugin, its file and why (the worker could not
    /// be confined, the module did not load, its constructor made a forbidden call, its descriptor
    /// disagrees with the file).
    std::unique_ptr<DecoderChannel> open(std::shared_ptr<const plugin::Plugin> plugin);

    /// Notices dead and hung workers, marks the messages they died on twice as undecodable,
    /// restarts them (with backoff), stops workers no channel uses. Never throws, never waits for a
    /// worker.
    void supervise(std::chrono::steady_clock::time_point now) noexcept;

    /// Confined: removes the chroot folders under the root that a process that died left behind
    /// (ModuleRoot::sweepStale); logs how many. Call at start. Never throws.
    void sweepStale() noexcept;

    /// One entry per plugin module with a worker.
    std::vector<DecoderStats> stats() const;
    const DecoderSettings& settings() const { return settings_; }

private:
    const WorkerEnvironment& environment();

    DecoderSettings settings_;
    bool allowInsecure_;
    mutable std::mutex mutex_;
    std::optional<WorkerEnvironment> env_;                         // resolved on first confined open
    std::map<std::string, std::shared_ptr<WorkerHost>> workers_;   // by module sha256
    std::map<std::string, std::weak_ptr<const plugin::ModuleCode>> inProcess_;  // by module sha256
};

}  // namespace fizzhost::decoder
