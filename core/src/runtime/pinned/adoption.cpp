#include "runtime/pinned/adoption.hpp"

#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/output/message_source.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "util/error.hpp"

#include <fizz/shared.h>

#include <net/if.h>

namespace fizzhost::runtime {
namespace {

// A map of a program instance: by its pin, or, when the pin is gone, through the maps the running
// program uses (its map ids), found by name (the kernel keeps 15 characters of it).
UniqueFd openMap(const PinStore& pins, const std::string& ifname, const std::string& pin, uint32_t programId,
                 const std::string& mapName, std::vector<std::string>& notes) {
    try {
        return pins.open(ifname, pin);
    } catch (const Error& e) {
        if (e.code() != ENOENT || programId == 0) throw;
        UniqueFd prog;
        try {
            prog = bpf::programById(programId);
        } catch (const Error&) {
            throw e;  // nothing runs it any more: the pin was the only way
        }
        const std::string want = mapName.substr(0, 15);
        for (uint32_t id : bpf::programInfo(prog.get()).mapIds) {
            UniqueFd m = bpf::mapById(id);
            if (bpf::mapName(m.get()) != want) continue;
            notes.push_back("pin '" + pin + "' is missing: reached map '" + want + "' through program id " +
                            std::to_string(programId) + " (map id " + std::to_string(id) + ")");
            return m;
        }
        throw;
    }
}

// The recorded program is the one the kernel runs under that id: ids are reused once freed.
bool sameTag(uint32_t programId, const std::string& tag) {
    if (tag.empty()) return true;  // a record written before tags were kept
    try {
        return bpf::programInfo(bpf::programById(programId).get()).tag == tag;
    } catch (const Error&) {
        return false;
    }
}

const std::string& linkTag(const std::vector<PinnedVariant>& variants, const std::optional<PinnedDispatcher>& d) {
    static const std::string none;
    if (d) return d->tag;
    for (const auto& v : variants)
        if (v.variant == "baseline") return v.tag;
    return none;
}

}  // namespace

std::shared_ptr<MessageSource> drainOnlySource(const PinStore& pins, const PinRecord& r, const PinnedVariant& v,
                                               const std::string& ifname, const plugin::Catalog& catalog,
                                               EventWriter& writer, decoder::DecoderService& decoders,
                                               std::vector<std::string>& notes) {
    const std::string ref = v.plugin + "@" + v.version;
    std::shared_ptr<const plugin::Plugin> p = catalog.find(ref);
    const std::optional<fizz_transport> transport = config::parseTransport(r.transport);
    if (!transport) throw Error("the record names transport '" + r.transport + "'", EPROTO);
    UniqueFd prog;
    try {
        prog = bpf::programById(v.programId);
        if (!sameTag(v.programId, v.tag)) prog.reset();
    } catch (const Error&) {
    }
    Classifier::Adopted fds{std::move(prog), openMap(pins, ifname, v.regionsPin, v.programId, FIZZ_MAP_REGIONS, notes),
                            openMap(pins, ifname, v.queuePin, v.programId, p->messageMap(), notes), r.ringSlots};
    const fizz_hook hook = r.mode == AttachedLink::kTcxMode ? FIZZ_HOOK_TC : FIZZ_HOOK_XDP;
    auto classifier = Classifier::adopt(p, *transport, std::move(fds), hook);
    return std::make_shared<MessageSource>(std::move(classifier), EventOrigin{ifname, p->name(), p->version(), v.variant},
                                           writer, decoders, true, false);
}

AdoptedState adoptPinned(const PinStore& pins, const PinRecord& r, const config::Interface& ifc,
                         const config::HostConfig& cfg, const plugin::Catalog& catalog, EventWriter& writer,
                         decoder::DecoderService& decoders) {
    const std::string where = "interface '" + ifc.name + "': pinned state";
    UniqueFd linkFd = pins.open(ifc.name, "link");
    const bpf::LinkInfo link = bpf::linkInfo(linkFd.get());
    const unsigned ifindex = if_nametoindex(ifc.name.c_str());
    if (link.ifindex == 0)
        throw Error(where + ": link id " + std::to_string(link.id) + " is detached (its device was deleted)", ENODEV);
    if (ifindex == 0 || link.ifindex != ifindex)
        throw Error(where + ": link id " + std::to_string(link.id) + " is attached to ifindex " +
                        std::to_string(link.ifindex) + ", but '" + ifc.name + "' is ifindex " + std::to_string(ifindex),
                    ENODEV);
    // A link stays on its hook: a tcx link is adopted for hook = "tc" only, an XDP link for "xdp".
    const bool pinnedTc = r.mode == AttachedLink::kTcxMode;
    if (pinnedTc != (ifc.hook == config::Hook::Tc))
        throw Error(where + ": link id " + std::to_string(link.id) + " is at " + (pinnedTc ? "tc ingress" : "XDP") +
                        ", the config asks for hook = \"" + std::string(config::toString(ifc.hook)) +
                        "\"; a link cannot change its hook, so it is attached anew",
                    EINVAL);
    if (r.configuredMode != config::toString(ifc.mode))
        throw Error(where + ": attached in mode " + r.configuredMode + ", the config asks for " +
                        std::string(config::toString(ifc.mode)) +
                        "; a link cannot change its mode, so it is attached anew (frames pass unclassified meanwhile)",
                    EINVAL);
    // The link runs the recorded state, or the pending one (a host died between its commit's intent
    // and outcome): adopt whichever it runs, and drain the other's regions.
    AdoptedState out;
    const std::vector<PinnedVariant>* variants = &r.variants;
    const std::optional<PinnedDispatcher>* dispatcher = &r.dispatcher;
    const std::vector<PinnedVariant>* others = r.pending ? &r.pending->variants : nullptr;
    if (link.programId == r.linkProgramId() && sameTag(link.programId, linkTag(r.variants, r.dispatcher))) {
    } else if (r.pending && link.programId == r.pending->linkProgramId() &&
               sameTag(link.programId, linkTag(r.pending->variants, r.pending->dispatcher))) {
        variants = &r.pending->variants;
        dispatcher = &r.pending->dispatcher;
        others = &r.variants;
        out.notes.push_back("the host before died during a commit, after its link update: adopted the state it "
                            "was committing");
    } else {
        throw Error(where + ": the link runs program id " + std::to_string(link.programId) + ", the record names " +
                        std::to_string(r.linkProgramId()) +
                        (r.pending ? " (pending " + std::to_string(r.pending->linkProgramId()) + ")" : "") +
                        " or the program under that id is another one now",
                    ESTALE);
    }

    auto a = std::make_unique<Attachment>();
    a->cfg = ifc;
    a->ifindex = int(ifindex);
    const std::optional<fizz_transport> recorded = config::parseTransport(r.transport);
    if (!recorded)
        throw Error(where + ": the record names transport '" + r.transport + "', which this fizzhost does not know",
                    EPROTO);
    const fizz_transport transport = *recorded;
    std::string diff;
    auto note = [&](const std::string& d) { diff += (diff.empty() ? "" : "; ") + d; };
    const fizz_transport wantTransport = cfg.output.transport;
    if (transport != wantTransport) note("transport " + r.transport + " -> " + std::string(config::toString(cfg.output.transport)));
    if (r.queueSize != cfg.queueSize) note("queue_size " + std::to_string(r.queueSize) + " -> " + std::to_string(cfg.queueSize));
    if (r.cpus != bpf::possibleCpus()) note("possible CPUs " + std::to_string(r.cpus) + " -> " + std::to_string(bpf::possibleCpus()));

    for (const auto& v : *variants) {
        const std::string ref = v.plugin + "@" + v.version;
        std::shared_ptr<const plugin::Plugin> p;
        try {
            p = catalog.find(ref);
        } catch (const Error& e) {
            throw Error(where + ": the " + v.variant + " runs " + ref + ", which the plugin folder no longer holds, so "
                            "its waiting messages cannot be decoded: " + e.what(),
                        e.code());
        }
        if (p->messageSize() != v.messageSize)
            throw Error(where + ": " + ref + " now has " + std::to_string(p->messageSize()) + "-byte messages, the "
                            "running program " + std::to_string(v.messageSize) + "-byte ones",
                        EINVAL);
        if (p->sha256() != v.sha256) note(ref + " module file changed (sha256 " + v.sha256.substr(0, 12) + "... -> " + p->sha256().substr(0, 12) + "...)");
        const uint32_t wantSlots = transport == FIZZ_TRANSPORT_RING && cfg.output.transport == FIZZ_TRANSPORT_RING
                                       ? ringSlotsFor(p->messageSize(), cfg.output.ringSlots, cfg.output.ringRate,
                                                      bpf::possibleCpus())
                                       : r.ringSlots;
        if (transport == FIZZ_TRANSPORT_RING && wantSlots != r.ringSlots)
            note("ring_slots " + std::to_string(r.ringSlots) + " -> " + std::to_string(wantSlots));
        Classifier::Adopted fds{bpf::programById(v.programId),
                                openMap(pins, ifc.name, v.regionsPin, v.programId, FIZZ_MAP_REGIONS, out.notes),
                                openMap(pins, ifc.name, v.queuePin, v.programId, p->messageMap(), out.notes),
                                r.ringSlots};
        auto classifier = Classifier::adopt(p, transport, std::move(fds), pinnedTc ? FIZZ_HOOK_TC : FIZZ_HOOK_XDP);
        // A shadow-mode candidate's backlog is the baseline's frames again: counted once, its
        // events written only if they were wanted, and named as they were.
        const bool shadow = v.variant == "candidate" && *dispatcher && (*dispatcher)->shadow;
        auto source = std::make_shared<MessageSource>(
            std::move(classifier), EventOrigin{ifc.name, p->name(), p->version(), shadow ? "shadow" : v.variant}, writer,
            decoders, !shadow || (*dispatcher)->shadowEvents, shadow);
        (v.variant == "candidate" ? a->candidate : a->baseline) = std::move(source);
    }
    if (!a->baseline) throw Error(where + ": the record names no baseline program", EPROTO);
    if (*dispatcher) {
        const PinnedDispatcher& d = **dispatcher;
        // The dispatcher's cost and shadow maps are not pinned: a rollout is rebuilt, with one
        // bpf_link_update from the adopted dispatcher to a complete new one.
        note("a pinned rollout is rebuilt (dispatcher and both variants)");
        // Without a candidate it is a chain's (then) or the tc hook's dispatcher: rebuilt the same way.
        if (!a->candidate && ifc.then.empty() && ifc.hook != config::Hook::Tc)
            throw Error(where + ": the record names a dispatcher but no candidate", EPROTO);
        a->dispatcher = Dispatcher::adopt(bpf::programById(d.programId), pins.open(ifc.name, d.variantsPin),
                                          pins.open(ifc.name, d.splitPin), d.percent);
    }
    // The instances the link no longer runs (or never ran): drained once, then retired.
    if (others)
        for (const auto& v : *others) {
            bool running = false;
            for (const auto& w : *variants) running = running || w.programId == v.programId;
            if (running) continue;
            try {
                out.leftovers.push_back(drainOnlySource(pins, r, v, ifc.name, catalog, writer, decoders, out.notes));
            } catch (const Error& e) {
                out.unreachable.push_back(v.variant + " " + v.plugin + " " + v.version + " (program id " +
                                          std::to_string(v.programId) + "): " + e.what());
            }
        }
    if (pinnedTc)
        a->link = bpf::TcxLink::adopt(std::move(linkFd), ifc.name);
    else
        a->link = bpf::XdpLink::adopt(std::move(linkFd), ifc.name,
                                      r.mode == "native" ? bpf::XdpMode::Native : bpf::XdpMode::Generic);
    out.attachment = std::move(a);
    out.samePrograms = diff.empty();
    out.differences = diff;
    return out;
}

}  // namespace fizzhost::runtime
