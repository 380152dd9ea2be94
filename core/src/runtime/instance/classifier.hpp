// One loaded instance of a plugin's BPF program: the object opened from the plugin's embedded ELF,
// checked against the plugin's descriptor, configured (transport, sizes) and verified by the
// kernel. It holds the object and its fds; reading the transport is the readers' job
// (runtime/instance/transport_reader.hpp).
#pragma once

#include "bpf/object.hpp"
#include "plugin/plugin.hpp"
#include "runtime/instance/ring_sizing.hpp"
#include "util/unique_fd.hpp"

#include <fizz/shared.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace fizzhost::runtime {

class RegionSpares;

struct ClassifierOptions {
    fizz_transport transport = FIZZ_TRANSPORT_RING;
    uint32_t queueSize = 1024;  // entries of the queue map
    /// Message slots per CPU (ring transport). 0: sized from `ringRate` for the possible CPUs,
    /// lowered (with a warning) to what fits in kMaxRegionBytes for this plugin's message size; an
    /// explicit value that does not fit is an error (ringSlotsFor).
    uint32_t ringSlots = 0;
    config::RingRate ringRate;
    /// The hook the program is loaded for: XDP, or tc (BPF_PROG_TYPE_SCHED_CLS). A plugin built
    /// with an SDK from before the tc hook loads for XDP only (bpf/hook_load.hpp).
    fizz_hook hook = FIZZ_HOOK_XDP;
    bool emitOff = false;  // benchmarks only: fizz_emit returns at once
    /// >= 0: load as a variant of a shadow-mode dispatcher, recording each frame's kind in this
    /// FIZZ_MAP_DECISION (Dispatcher::createDecisionMap(); the caller keeps it open until load returns).
    int decisionMapFd = -1;
    /// Non-null: the regions map is taken from these spares when one of the right shape is held
    /// (made ahead, off the reload's path; runtime/instance/region_spares.hpp), else created at load.
    RegionSpares* spares = nullptr;
};

class Classifier {
public:
    /// Opens, checks and loads. Throws Error prefixed "plugin '<name>' (<file>): " on any problem:
    /// a missing program or map, a message size that differs from the map's value size, a ring
    /// that does not fit, or the verifier's rejection (with its log).
    static std::unique_ptr<Classifier> load(std::shared_ptr<const plugin::Plugin> plugin, const ClassifierOptions& opts);

    /// Fds of a program instance a previous host left running (pinned state, runtime/pinned/adoption.hpp).
    struct Adopted {
        UniqueFd program, regions, queue;
        uint32_t ringSlots = 0;  // per CPU, as recorded; 0 with the queue transport
    };
    /// Stands on a running instance instead of loading one: nothing is reloaded, the counters and
    /// the messages waiting in its regions (or queue) carry on. Checks the kernel's view of each fd
    /// against `plugin` and the recorded sizes; throws Error prefixed like load() when they differ.
    /// Without a program (an instance nothing runs any more, whose maps were pinned) the result
    /// only drains: programFd() is -1.
    static std::unique_ptr<Classifier> adopt(std::shared_ptr<const plugin::Plugin> plugin, fizz_transport transport,
                                             Adopted fds, fizz_hook hook = FIZZ_HOOK_XDP);

    const plugin::Plugin& plugin() const { return *plugin_; }
    const std::shared_ptr<const plugin::Plugin>& pluginPtr() const { return plugin_; }
    fizz_transport transport() const { return transport_; }
    fizz_hook hook() const { return hook_; }
    int programFd() const { return programFd_; }
    uint32_t programId() const;
    /// The queue map (queue transport; present but unused with the ring).
    int queueFd() const { return queueFd_; }
    /// FIZZ_MAP_REGIONS: `cpus()` regions of `regionSize()` bytes, `ringSlots()` slots each.
    int regionsFd() const { return regionsFd_; }
    unsigned cpus() const { return cpus_; }
    uint32_t regionSize() const { return regionSize_; }
    uint32_t ringSlots() const { return ringSlots_; }
    /// Loaded as a shadow-mode variant (ClassifierOptions::decisionMapFd).
    bool shadowVariant() const { return shadowVariant_; }

private:
    Classifier() = default;

    std::shared_ptr<const plugin::Plugin> plugin_;
    std::optional<bpf::Object> object_;
    UniqueFd adoptedProgram_, adoptedQueue_, adoptedRegions_;  // set instead of object_ when adopted
    fizz_transport transport_ = FIZZ_TRANSPORT_RING;
    fizz_hook hook_ = FIZZ_HOOK_XDP;
    int programFd_ = -1, queueFd_ = -1, regionsFd_ = -1;
    unsigned cpus_ = 0;
    uint32_t regionSize_ = 0, ringSlots_ = 0;
    bool shadowVariant_ = false;
};

/// "plugin 'fizz' (/path/fizz.so)": the prefix of every error about a plugin.
std::string describe(const plugin::Plugin& plugin);

}  // namespace fizzhost::runtime
