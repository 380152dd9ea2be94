#include "runtime/attachment/attachment.hpp"

#include "bpf/pin.hpp"
#include "bpf/xdp_link.hpp"
#include "util/error.hpp"

#include <spdlog/spdlog.h>

namespace fizzhost::runtime {

void InterfaceTotals::add(const MessageSource& source) {
    // A shadow-mode candidate classifies the frames the baseline does: they are counted once.
    if (source.shadows()) return;
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

std::optional<RolloutFigures> Attachment::rolloutFigures() const {
    if (!dispatcher) return std::nullopt;
    RolloutFigures f;
    f.dispatcherProgramId = bpf::programId(dispatcher->programFd());
    f.samplePeriod = dispatcher->samplePeriod();
    const auto costs = dispatcher->costs();
    f.baseline = costs[FIZZ_VARIANT_BASELINE];
    f.candidate = costs[FIZZ_VARIANT_CANDIDATE];
    if (dispatcher->shadow() && baseline && candidate)
        f.shadow = compareDecisions(dispatcher->shadowCounts(), baseline->classifier().plugin().kinds(),
                                    candidate->classifier().plugin().kinds(),
                                    config::ExpectedCells(cfg.rollout ? cfg.rollout->expected
                                                                      : std::vector<config::ExpectedCell>{}));
    return f;
}

std::vector<RegionSpares::InUse> regionsInUse(const std::map<std::string, std::unique_ptr<Attachment>>& attachments) {
    std::vector<RegionSpares::InUse> live;
    for (const auto& [name, a] : attachments)
        for (const MessageSource* s : {a->baseline.get(), a->candidate.get()}) {
            if (!s) continue;
            const Classifier& c = s->classifier();
            try {
                live.push_back({bpf::mapInfo(c.regionsFd()).id, {c.regionSize(), c.cpus()}});
            } catch (const Error& e) {
                spdlog::warn("interface '{}': {}", name, e.what());
            }
        }
    return live;
}

}  // namespace fizzhost::runtime
