#include "runtime/output/uncounted_warnings.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

void UncountedWarnings::check(const std::string& ifname, const MessageSource& s) const {
    const fizz_counters c = s.counters();
    if (c.emitted == 0 || c.packets != 0) return;
    const auto& p = s.classifier().plugin();
    std::lock_guard lock(mutex_);
    if (!warned_.insert(p.name() + " " + p.version()).second) return;
    spdlog::warn("interface '{}': {} {} emitted {} message(s) but counted no packet: its program never calls "
                 "fizz_count_packet(), so its packet counts (and rates derived from them) read 0",
                 ifname, p.name(), p.version(), c.emitted);
}

}  // namespace fizzhost::runtime
