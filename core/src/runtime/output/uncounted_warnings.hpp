// A program that emits messages but never calls fizz_count_packet() reads 0 packets in status and
// metrics. The host says so once per plugin version, from wherever it first notices (a status
// read, a retired instance), not at every read.
#pragma once

#include "runtime/output/message_source.hpp"

#include <mutex>
#include <set>
#include <string>

namespace fizzhost::runtime {

class UncountedWarnings {
public:
    /// Logs a warning when `source` (on `ifname`) emitted without counting a packet, once per
    /// plugin version for the life of this object. Any thread. Never throws but bad_alloc.
    void check(const std::string& ifname, const MessageSource& source) const;

private:
    mutable std::mutex mutex_;
    mutable std::set<std::string> warned_;  // "plugin version" already warned about
};

}  // namespace fizzhost::runtime
