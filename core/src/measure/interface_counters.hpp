// An interface's counters: the driver's list that `ethtool -S` prints (ETHTOOL_GSTATS), read without
// the ethtool program, and the kernel's link statistics (`ip -s link`, rtnetlink). veth keeps its
// XDP figures in the first: per receive queue the frames its XDP program ran on
// (rx_queue_<n>_xdp_packets), per transmit queue the frames redirected into it that its peer took
// (tx_queue_<n>_xdp_xmit). Its link statistics count every frame it could not hand over in
// tx_dropped: a peer whose receive ring was full, or one with no XDP program to take redirected
// frames at all (which no per-queue counter sees).
#pragma once

#include "util/unique_fd.hpp"

#include <cstdint>
#include <map>
#include <string>

namespace fizzhost::measure {

class InterfaceCounters {
public:
    /// Opens the reader for `ifname` in the calling thread's network namespace: the sockets it makes
    /// stay there, so reads work from any thread afterwards. Throws Error when the interface is unknown.
    explicit InterfaceCounters(std::string ifname);
    /// Every driver counter by name (none when the driver keeps none). Throws Error.
    std::map<std::string, uint64_t> read() const;
    /// The sum of the counters whose name starts with `prefix` and ends with `suffix` (all queues of
    /// one kind, e.g. "rx_queue_", "_xdp_packets"). Throws Error.
    uint64_t sum(const std::string& prefix, const std::string& suffix) const;

    struct LinkStats {
        uint64_t rxPackets = 0, txPackets = 0, rxDropped = 0, txDropped = 0;
    };
    /// The kernel's link statistics (IFLA_STATS64). Throws Error.
    LinkStats link() const;
    const std::string& ifname() const { return ifname_; }

private:
    std::string ifname_;
    UniqueFd socket_, netlink_;
    int ifindex_ = 0;
    uint32_t count_ = 0;
};

}  // namespace fizzhost::measure
