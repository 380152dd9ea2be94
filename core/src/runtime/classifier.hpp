// One loaded instance of a plugin's BPF program: the object opened from the plugin's embedded ELF,
// checked against the plugin's descriptor, configured (transport, counter slot, sizes, shared
// counters) and verified by the kernel. It owns the message transport it drains.
#pragma once

#include "bpf/object.hpp"
#include "bpf/ring_reader.hpp"
#include "bpf/unique_fd.hpp"
#include "plugin/plugin.hpp"

#include <fizz/shared.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace fizzhost::runtime {

struct ClassifierOptions {
    fizz_transport transport = FIZZ_TRANSPORT_QUEUE;
    uint32_t slot = FIZZ_SLOT_BASELINE;  // counter slot (baseline or candidate)
    uint32_t queueSize = 1024;           // entries of the queue map
    uint32_t ringSize = 256 * 1024;      // bytes of each per-CPU ring
    int statsFd = -1;                    // host-owned counters to share; -1: a private map
};

/// Receives raw messages as they are drained. Called on the draining thread; must not throw.
class MessageHandler {
public:
    virtual ~MessageHandler() = default;
    virtual void onMessage(const void* data, uint32_t size) noexcept = 0;
};

class Classifier {
public:
    /// Opens, checks and loads. Throws Error prefixed "plugin '<name>' (<file>): " on any problem:
    /// a missing program or map, a message size that differs from the map's value size, or the
    /// verifier's rejection (with its log).
    static std::unique_ptr<Classifier> load(std::shared_ptr<const plugin::Plugin> plugin, const ClassifierOptions& opts);

    /// Only the checks that need no kernel: program and maps present, sizes agree. Throws Error.
    static void inspect(const plugin::Plugin& plugin);

    const plugin::Plugin& plugin() const { return *plugin_; }
    const std::shared_ptr<const plugin::Plugin>& pluginPtr() const { return plugin_; }
    const ClassifierOptions& options() const { return opts_; }
    int programFd() const { return programFd_; }
    uint32_t programId() const;
    int statsFd() const { return statsFd_; }
    int queueFd() const { return queueFd_; }

    /// Where drained messages go. Set before draining; the handler must outlive this object.
    void setHandler(MessageHandler* handler);
    /// Delivers up to `max` waiting messages (all available ones for rings) to the handler without
    /// blocking; returns how many. Never throws: a failing pop ends the batch and is returned as 0.
    size_t drain(size_t max) noexcept;
    /// A pollable fd that turns readable when a batch of messages waits (rings: an eighth of a ring
    /// or more; smaller batches must be polled for); -1 for the queue transport, which the kernel
    /// cannot signal.
    int pollFd() const { return rings_.epollFd(); }

private:
    Classifier() = default;
    static int onRingRecord(void* ctx, void* data, size_t size);

    std::shared_ptr<const plugin::Plugin> plugin_;
    ClassifierOptions opts_;
    std::optional<bpf::Object> object_;
    UniqueFd ownStats_;
    std::vector<UniqueFd> ringFds_;
    bpf::RingReader rings_;
    MessageHandler* handler_ = nullptr;
    std::vector<unsigned char> popBuffer_;
    int programFd_ = -1, queueFd_ = -1, statsFd_ = -1;
};

/// "plugin 'fizz' (/path/fizz.so)": the prefix of every error about a plugin.
std::string describe(const plugin::Plugin& plugin);

}  // namespace fizzhost::runtime
