// What the host runs on one interface: the bpf_link, the host-owned counters every program version
// on it shares, the baseline classifier and, during a rollout, the candidate behind the dispatcher.
#pragma once

#include "bpf/unique_fd.hpp"
#include "bpf/xdp_link.hpp"
#include "config/host_config.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/message_source.hpp"

#include <fizz/shared.h>

#include <memory>
#include <string>

namespace fizzhost::runtime {

struct Attachment {
    config::Interface cfg;
    int ifindex = 0;
    UniqueFd stats;  // PERCPU_ARRAY of struct fizz_stats, FIZZ_MAX_SLOTS entries; outlives versions
    bpf::XdpLink link;
    std::shared_ptr<MessageSource> baseline;
    std::shared_ptr<MessageSource> candidate;  // set only during a rollout
    std::unique_ptr<Dispatcher> dispatcher;    // set only during a rollout

    /// The program the link runs: the dispatcher during a rollout, else the baseline.
    int attachedProgramFd() const {
        return dispatcher ? dispatcher->programFd() : baseline->classifier().programFd();
    }
    /// Reads one slot of the shared counters, summed over CPUs. Throws Error.
    fizz_stats counters(uint32_t slot) const;
};

/// Creates the per-interface counters map. Throws Error.
UniqueFd createStatsMap();

}  // namespace fizzhost::runtime
