// What the host runs on one interface: the bpf_link, the baseline classifier and, during a rollout,
// the candidate behind the dispatcher, and the final counts of the program instances it retired.
#pragma once

#include "bpf/xdp_link.hpp"
#include "config/host_config.hpp"
#include "runtime/dispatcher.hpp"
#include "runtime/message_source.hpp"

#include <fizz/shared.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace fizzhost::runtime {

/// Counts of one or more program instances on an interface. Per-kind counts by kind name, since
/// the instances' plugins may declare different kinds.
struct InterfaceTotals {
    uint64_t packets = 0, emitted = 0, dropped = 0, delivered = 0, undecodable = 0;
    std::map<std::string, uint64_t> kinds;

    /// Adds what `source` counted and delivered so far. Never throws (but may allocate kind names).
    void add(const MessageSource& source);
};

struct Attachment {
    config::Interface cfg;
    int ifindex = 0;
    bpf::XdpLink link;
    std::shared_ptr<MessageSource> baseline;
    std::shared_ptr<MessageSource> candidate;  // set only during a rollout
    std::unique_ptr<Dispatcher> dispatcher;    // set only during a rollout
    InterfaceTotals retired;                   // final counts of the instances this interface retired

    /// The program the link runs: the dispatcher during a rollout, else the baseline.
    int attachedProgramFd() const {
        return dispatcher ? dispatcher->programFd() : baseline->classifier().programFd();
    }
    /// Everything counted on this interface since it was attached: retired instances + live ones.
    InterfaceTotals totals() const;
};

}  // namespace fizzhost::runtime
