#include "runtime/pinned/adoption.hpp"

#include "bpf/map.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/instance/classifier.hpp"
#include "runtime/output/message_source.hpp"
#include "runtime/rollout/dispatcher.hpp"
#include "util/error.hpp"

#include <net/if.h>

namespace fizzhost::runtime {

AdoptedState adoptPinned(const PinStore& pins, const PinRecord& r, const config::Interface& ifc,
                         const config::HostConfig& cfg, const plugin::Catalog& catalog, EventWriter& writer) {
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
    const uint32_t expected = r.dispatcher ? r.dispatcher->programId : (r.variant("baseline") ? r.variant("baseline")->programId : 0);
    if (link.programId != expected)
        throw Error(where + ": the link runs program id " + std::to_string(link.programId) + ", the record names " +
                        std::to_string(expected) + " (a host stopped between swap and record?)",
                    ESTALE);

    AdoptedState out;
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

    for (const auto& v : r.variants) {
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
                                       ? ringSlotsFor(p->messageSize(), cfg.output.ringSlots)
                                       : r.ringSlots;
        if (transport == FIZZ_TRANSPORT_RING && wantSlots != r.ringSlots)
            note("ring_slots " + std::to_string(r.ringSlots) + " -> " + std::to_string(wantSlots));
        Classifier::Adopted fds{bpf::programById(v.programId), pins.open(ifc.name, v.regionsPin),
                                pins.open(ifc.name, v.queuePin), r.ringSlots};
        auto classifier = Classifier::adopt(p, transport, std::move(fds), pinnedTc ? FIZZ_HOOK_TC : FIZZ_HOOK_XDP);
        // A shadow-mode candidate's backlog is the baseline's frames again: counted once, its
        // events written only if they were wanted, and named as they were.
        const bool shadow = v.variant == "candidate" && r.dispatcher && r.dispatcher->shadow;
        auto source = std::make_shared<MessageSource>(
            std::move(classifier), EventOrigin{ifc.name, p->name(), p->version(), shadow ? "shadow" : v.variant}, writer,
            !shadow || r.dispatcher->shadowEvents, shadow);
        (v.variant == "candidate" ? a->candidate : a->baseline) = std::move(source);
    }
    if (!a->baseline) throw Error(where + ": the record names no baseline program", EPROTO);
    if (r.dispatcher) {
        // The dispatcher's cost and shadow maps are not pinned: a rollout is rebuilt, with one
        // bpf_link_update from the adopted dispatcher to a complete new one.
        note("a pinned rollout is rebuilt (dispatcher and both variants)");
        // Without a candidate it is a chain's (then) or the tc hook's dispatcher: rebuilt the same way.
        if (!a->candidate && ifc.then.empty() && ifc.hook != config::Hook::Tc)
            throw Error(where + ": the record names a dispatcher but no candidate", EPROTO);
        a->dispatcher = Dispatcher::adopt(bpf::programById(r.dispatcher->programId),
                                          pins.open(ifc.name, r.dispatcher->variantsPin),
                                          pins.open(ifc.name, r.dispatcher->splitPin), r.dispatcher->percent);
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
