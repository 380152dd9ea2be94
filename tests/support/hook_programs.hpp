// Programs loaded for either hook through the bpf layer, the way the host is to load them: a
// plugin's classifier as an XDP or a tc program (its frozen hook knob set to match), and the
// host's dispatcher with its hook and chain settings. Each owns its object; messages are read from
// the queue transport, raw, so that two instances can be compared byte for byte.
#pragma once

#include "bpf/object.hpp"
#include "bpf/tail_call.hpp"
#include "plugin/plugin.hpp"
#include "util/unique_fd.hpp"

#include <fizz/dispatcher.h>
#include <fizz/shared.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace fizzhost::test {

/// A plugin's program loaded for `hook`, with the queue transport (4096 entries) and one counters
/// region per CPU. Throws Error (with the verifier's log) when it does not load.
class HookClassifier {
public:
    HookClassifier(std::shared_ptr<const plugin::Plugin> plugin, fizz_hook hook, int decisionMapFd = -1);
    int programFd() const { return programFd_; }
    fizz_hook hook() const { return hook_; }
    const plugin::Plugin& plugin() const { return *plugin_; }
    /// Every message waiting, raw, in the order the queue holds them.
    std::vector<std::vector<uint8_t>> drainRaw();
    /// drainRaw(), decoded (messages the decoder refuses are left out and counted by the caller's
    /// comparison of the sizes).
    std::vector<fizzhost_event> drain();
    /// Packets counted over every CPU.
    uint64_t packets() const;

private:
    std::shared_ptr<const plugin::Plugin> plugin_;
    bpf::Object object_;
    fizz_hook hook_;
    int programFd_ = -1, queueFd_ = -1, regionsFd_ = -1;
};

struct HookDispatcherOptions {
    fizz_hook hook = FIZZ_HOOK_XDP;
    bool chain = false;
    uint32_t samplePeriod = FIZZ_COST_SAMPLE_PERIOD;
    int decisionMapFd = -1;  // >= 0: shadow mode with this FIZZ_MAP_DECISION
};

/// The host's dispatcher (embedded in the runtime layer) loaded with a full fizz_dispatch_config.
class HookDispatcher {
public:
    explicit HookDispatcher(const HookDispatcherOptions& opts);
    int programFd() const { return programFd_; }
    int variantsFd() const { return variantsFd_; }
    /// Fills a slot (FIZZ_VARIANT_*, FIZZ_SLOT_NEXT) through bpf::insertTailCallTarget, so an
    /// incompatible program is refused with the reason. Throws Error.
    void setSlot(uint32_t slot, int progFd);
    /// Sends `percent` of the hash space to the candidate. Throws Error.
    void setPercent(unsigned percent);
    const bpf::TailCallProfile& profile() const { return profile_; }
    /// What the dispatcher timed per variant, summed over CPUs.
    std::array<fizz_variant_cost, FIZZ_VARIANTS> costs() const;

private:
    bpf::Object object_;
    bpf::TailCallProfile profile_;
    int programFd_ = -1, variantsFd_ = -1, splitFd_ = -1, statsFd_ = -1;
};

/// True for a frame BPF_PROG_TEST_RUN refuses to run a tc program on (EINVAL): an IPv4 (IPv6)
/// ethertype with less than the 20 (40) bytes of a minimal header behind the Ethernet header (the
/// kernel reads the addresses for the test's socket first; an XDP test run takes such a frame, and
/// so does tc ingress on a real device). Tests of the tc hook check these frames on XDP only.
bool skbTestRunRefuses(const std::vector<uint8_t>& frame);

/// A test BPF object built beside the tests (FIZZHOST_TEST_BPF_DIR/<file>), opened, not loaded.
bpf::Object openTestObject(const std::string& file);

/// The plugin `name` from `dir` (the shipped plugins' folder by default). Throws Error.
std::shared_ptr<const plugin::Plugin> findPlugin(const std::string& name, const std::string& dir);

}  // namespace fizzhost::test
