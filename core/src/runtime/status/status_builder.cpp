#include "runtime/status/status_builder.hpp"

#include "bpf/prog_stats.hpp"
#include "runtime/rollout/variant_placement.hpp"
#include "util/address.hpp"
#include "util/error.hpp"
#include "util/iso_time.hpp"

#include <fizz/dispatcher.h>

namespace fizzhost::runtime {
namespace {

StatusCounts countsOf(const InterfaceTotals& t) {
    return {t.packets, t.emitted, t.dropped, t.delivered, t.undecodable, t.kinds};
}

// One instance, every column since it went live.
VariantStatus variantOf(const config::Interface& ifc, uint32_t slot, const MessageSource& src) {
    // The delivered figures are read before the counters, so that delivered never runs ahead of
    // emitted.
    VariantStatus v;
    v.counts.delivered = src.delivered();
    v.writeLost = src.writeLost();
    v.counts.undecodable = src.undecodable();
    const fizz_counters c = src.counters();
    const auto& p = src.classifier().plugin();
    v.variant = placementOf(ifc, slot).name;
    v.plugin = p.name();
    v.version = p.version();
    v.abi = p.abiVersion();
    v.programId = src.classifier().programId();
    v.counts.packets = c.packets;
    v.counts.emitted = c.emitted;
    v.counts.dropped = c.dropped;
    v.withheld = src.withheld();
    v.countsPackets = !(c.emitted > 0 && c.packets == 0);
    for (uint32_t k = 0; k < p.kinds().size() && k < FIZZ_MAX_KINDS; ++k) v.counts.kinds[p.kinds()[k]] = c.kinds[k];
    return v;
}

}  // namespace

InterfaceStatus attachedStatus(const std::string& name, const Attachment& a, bool runTimeStats,
                               const RolloutController* progressive, RolloutClock::time_point now) {
    InterfaceStatus ifc;
    ifc.name = name;
    ifc.state = InterfaceStatus::State::Attached;
    ifc.mode = a.link.modeName();
    ifc.hook = std::string(config::toString(a.cfg.hook));
    if (a.cfg.hook == config::Hook::Tc) ifc.place = config::describe(a.cfg.place);
    if (a.dispatcher && !a.dispatcher->chainPath().empty()) {
        ifc.chain = a.dispatcher->chainPath().string();
        ifc.chainProgramId = a.dispatcher->chainProgramId();
    }
    ifc.onDetach = std::string(config::toString(a.cfg.onDetach));
    ifc.detaches = a.detaches;
    if (a.off) {
        ifc.off = a.offReason;  // no link: its ids are 0, the counts are what it ran before
    } else {
        ifc.linkId = a.link.id();
        ifc.programId = a.link.programId();
    }
    // The kernel's figures move only while run-time statistics are on (run_time_stats).
    std::optional<bpf::ProgramStats> top;
    if (runTimeStats) {
        top = bpf::programStats(a.attachedProgramFd());
        ifc.nsPerRun = top->nsPerRun();
        ifc.runs = top->runCount;
    }
    const auto figures = a.rolloutFigures();
    if (a.dispatcher && a.candidate && !a.dispatcher->shadow()) ifc.percent = a.dispatcher->percent();
    if (figures && figures->shadow) ifc.shadow = shadowStatusOf(*figures->shadow, a.candidate && a.candidate->delivers());
    if (progressive) ifc.progressive = progressive->status(now);
    // Since the interface was attached: the final counts of every retired instance + the live ones.
    ifc.totals = countsOf(a.totals());
    for (uint32_t slot : {uint32_t(FIZZ_VARIANT_BASELINE), uint32_t(FIZZ_VARIANT_CANDIDATE)}) {
        const auto& src = slot == FIZZ_VARIANT_BASELINE ? a.baseline : a.candidate;
        if (!src) continue;
        VariantStatus v = variantOf(a.cfg, slot, *src);
        // Tail calls are not accounted to the callee: behind the dispatcher each variant's
        // cost is what the dispatcher timed (1 frame in samplePeriod per CPU).
        if (!figures) {
            if (top) v.nsPerRun = top->nsPerRun();
        } else {
            const VariantCost& cost = slot == FIZZ_VARIANT_BASELINE ? figures->baseline : figures->candidate;
            v.nsPerRun = cost.nsPerRun();
            v.runs = cost.runs;
            v.runsTimedOneIn = figures->samplePeriod;
        }
        ifc.variants.push_back(std::move(v));
    }
    return ifc;
}

InterfaceStatus goneStatus(const std::string& name, const GoneInterface& g) {
    InterfaceStatus ifc;
    ifc.name = name;
    ifc.state = InterfaceStatus::State::Gone;
    ifc.classifier = g.cfg.classifier;
    ifc.goneSince = isoTime(g.since);
    ifc.ifindexWas = g.ifindex;
    ifc.final = countsOf(g.final);
    return ifc;
}

ShadowStatus shadowStatusOf(const ShadowComparison& comparison, bool events) {
    ShadowStatus out;
    out.compared = comparison.compared;
    out.disagreed = comparison.disagreed;
    out.unexpected = comparison.unexpected;
    out.events = events;
    for (const auto& cell : comparison.cells) {
        ShadowStatus::Cell c{cell.baseline, cell.candidate, cell.frames, cell.agree, {}, cell.expected};
        for (uint32_t src : cell.examples) c.examples.push_back(formatAddress(src));
        out.cells.push_back(std::move(c));
    }
    return out;
}

OutputStatus outputStatus(const EventWriter& writer) {
    OutputStatus out;
    out.written = writer.written();
    out.lost = writer.lost();  // decoded, but the write carrying them failed
    out.writeErrors = writer.writeErrors();
    if (writer.lastError() != 0) out.lastError = writer.lastErrorText();
    out.reopens = writer.reopens();
    out.lostWriteTimeout = writer.lost(LossReason::WriteTimeout);
    out.lostQueueFull = writer.lost(LossReason::QueueFull);
    return out;
}

}  // namespace fizzhost::runtime
