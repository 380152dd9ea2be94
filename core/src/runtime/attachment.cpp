#include "runtime/attachment.hpp"

namespace fizzhost::runtime {

void InterfaceTotals::add(const MessageSource& source) {
    // Delivered first: what is delivered was emitted before, so the sum never shows more
    // delivered than emitted.
    delivered += source.delivered();
    undecodable += source.undecodable();
    const fizz_counters c = source.counters();
    packets += c.packets;
    emitted += c.emitted;
    dropped += c.dropped;
    const auto& names = source.classifier().plugin().kinds();
    for (size_t k = 0; k < names.size() && k < FIZZ_MAX_KINDS; ++k) kinds[names[k]] += c.kinds[k];
}

InterfaceTotals Attachment::totals() const {
    InterfaceTotals t = retired;
    for (const auto* s : {&baseline, &candidate})
        if (*s) t.add(**s);
    return t;
}

}  // namespace fizzhost::runtime
