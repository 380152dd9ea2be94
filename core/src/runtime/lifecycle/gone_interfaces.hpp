// Configured interfaces whose device went away. The kernel detaches an XDP link by itself when its
// device is deleted, but nothing else of ours notices: the link would be reported attached, the
// sources kept, and a re-created interface of the same name left bare. The host retires such an
// interface's attachment (draining its messages, releasing its link) and keeps it here with its
// final counts, shown in status, until an interface of that name appears again or the config no
// longer names it. No kernel calls but the name lookups of returned().
#pragma once

#include "config/host_config.hpp"
#include "runtime/attachment/attachment.hpp"

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace fizzhost::runtime {

struct GoneInterface {
    config::Interface cfg;  // as configured (a reload while it is gone updates it)
    int ifindex = 0;        // the deleted device's
    std::chrono::system_clock::time_point since;
    InterfaceTotals final;  // everything counted on it, final at retirement
};

class GoneInterfaces {
public:
    /// Keeps `a` as gone from now on, with its counts, which are final: the host detached it, so
    /// its sources are drained and nothing runs them. Logs them. Never throws but bad_alloc.
    void retire(const Attachment& a);
    const GoneInterface* find(const std::string& name) const;
    bool contains(const std::string& name) const { return gone_.count(name) != 0; }
    void erase(const std::string& name) { gone_.erase(name); }
    /// The gone interfaces whose name is present again in this network namespace.
    std::vector<std::string> returned() const;
    /// After a committed reload: `stillGone` (configured, deleted, not back) wait on under their
    /// new config; one no longer `wanted`, or `attached` again, is forgotten. Returns what the
    /// reload's log line ends with: "" when none is gone, else "; N configured interface(s) gone,
    /// waiting for them to appear: 'a', 'b'".
    std::string settle(const std::vector<config::Interface>& stillGone, const std::set<std::string>& wanted,
                       const std::set<std::string>& attached);
    const std::map<std::string, GoneInterface>& all() const { return gone_; }

private:
    std::map<std::string, GoneInterface> gone_;
};

}  // namespace fizzhost::runtime
