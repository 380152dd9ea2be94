#include "runtime/instance/classifier.hpp"

#include "bpf/cpu_regions.hpp"
#include "bpf/hook_load.hpp"
#include "bpf/map.hpp"
#include "bpf/pin.hpp"
#include "bpf/xdp_link.hpp"
#include "runtime/instance/region_spares.hpp"
#include "util/error.hpp"

#include <bpf/bpf.h>
#include <linux/bpf.h>

namespace fizzhost::runtime {
namespace {

// Checks the object against the descriptor; returns nothing, throws Error with `where` prefixed.
void checkObject(const bpf::Object& obj, const plugin::Plugin& p, const std::string& where) {
    auto prog = obj.findProgram(p.program());
    if (!prog) {
        std::string names;
        for (const auto& n : obj.programNames()) names += (names.empty() ? "" : ", ") + n;
        throw Error(where + ": BPF object has no program '" + p.program() + "' (programs: " +
                        (names.empty() ? "none" : names) + ")",
                    ENOENT);
    }
    if (!prog->isXdp()) throw Error(where + ": program '" + p.program() + "' is not an XDP program", EINVAL);

    auto requireMap = [&](const std::string& name, uint32_t type, const char* typeName, const char* hint) {
        auto map = obj.findMap(name);
        if (!map) throw Error(where + ": BPF object has no map '" + name + "' (" + hint + ")", ENOENT);
        if (map->type() != type)
            throw Error(where + ": map '" + name + "' is of type " + std::to_string(map->type()) + ", expected " +
                            typeName,
                        EINVAL);
        return *map;
    };
    auto events = requireMap(p.messageMap(), BPF_MAP_TYPE_QUEUE, "BPF_MAP_TYPE_QUEUE",
                             "declare it with FIZZ_MESSAGE() from <fizz/classifier.h>");
    if (events.valueSize() != p.messageSize())
        throw Error(where + ": message size mismatch: the decoder expects " + std::to_string(p.messageSize()) +
                        " bytes, map '" + p.messageMap() + "' holds " + std::to_string(events.valueSize()) +
                        "-byte values (BPF program and decoder built from different message headers?)",
                    EINVAL);
    auto regions = requireMap(FIZZ_MAP_REGIONS, BPF_MAP_TYPE_ARRAY, "BPF_MAP_TYPE_ARRAY",
                              "<fizz/classifier.h> declares it; a module built against an SDK from before the "
                              "per-CPU regions (one with a fizz_stats map) must be rebuilt");
    if (regions.keySize() != sizeof(__u32) || regions.valueSize() != sizeof(fizz_region_header) ||
        !(regions.flags() & BPF_F_MMAPABLE))
        throw Error(where + ": map '" FIZZ_MAP_REGIONS "' has " + std::to_string(regions.keySize()) + "-byte keys and " +
                        std::to_string(regions.valueSize()) + "-byte values; this host's <fizz/classifier.h> declares " +
                        "4-byte keys, " + std::to_string(sizeof(fizz_region_header)) +
                        "-byte values (the header; the host adds the slots) and BPF_F_MMAPABLE (built against "
                        "another SDK?)",
                    EINVAL);
    // Every SDK generation's configuration section is accepted here (an older one is a prefix of
    // the current struct); whether it can run on the hook asked for is setProgConfig()'s question.
    bpf::classifierSdk(obj);
}

// A shadow-mode variant records each frame's kind in the decision map the dispatcher reads.
void useDecisionMap(const bpf::Object& obj, int fd) {
    auto map = obj.findMap(FIZZ_MAP_DECISION);
    if (!map)
        throw Error("cannot run in shadow mode: built with an SDK without it (no map '" FIZZ_MAP_DECISION
                    "', through which fizz_emit tells the dispatcher its decision); rebuild it against this "
                    "fizzhost's <fizz/classifier.h>",
                    ENOTSUP);
    if (map->type() != BPF_MAP_TYPE_PERCPU_ARRAY || map->keySize() != sizeof(__u32) ||
        map->valueSize() != sizeof(__u32))
        throw Error("cannot run in shadow mode: map '" FIZZ_MAP_DECISION "' is not the one <fizz/classifier.h> "
                    "declares (a BPF_MAP_TYPE_PERCPU_ARRAY of __u32)",
                    EINVAL);
    map->reuseFd(fd);
}

}  // namespace

std::string describe(const plugin::Plugin& plugin) {
    return "plugin '" + plugin.name() + "' (" + plugin.path().string() + ")";
}

std::unique_ptr<Classifier> Classifier::load(std::shared_ptr<const plugin::Plugin> plugin,
                                             const ClassifierOptions& opts) {
    const plugin::Plugin& p = *plugin;
    const std::string where = describe(p);
    std::unique_ptr<Classifier> c(new Classifier());
    c->plugin_ = std::move(plugin);
    c->transport_ = opts.transport;
    c->hook_ = opts.hook;
    try {
#if !defined(__x86_64__)
        // The program publishes a slot with a plain store after a compiler barrier: enough under
        // x86's total store order only. Elsewhere it would need a store-release the SDK lacks.
        if (opts.transport == FIZZ_TRANSPORT_RING)
            throw Error("the ring transport relies on x86-64 store ordering; use transport = \"queue\" on this CPU",
                        ENOTSUP);
#endif
        c->object_.emplace(bpf::Object::openMemory(p.bpfObject(), p.name()));
        bpf::Object& obj = *c->object_;
        checkObject(obj, p, where);

        c->cpus_ = bpf::possibleCpus();
        c->ringSlots_ = opts.transport == FIZZ_TRANSPORT_RING ? ringSlotsFor(p.messageSize(), opts.ringSlots, opts.ringRate, c->cpus_) : 0;
        c->regionSize_ = uint32_t(bpf::regionBytes(p.messageSize(), c->ringSlots_));

        // Only the program the descriptor names is loaded; others in the object stay inert.
        if (opts.decisionMapFd >= 0) useDecisionMap(obj, opts.decisionMapFd);
        c->shadowVariant_ = opts.decisionMapFd >= 0;
        const fizz_prog_config cfg{static_cast<__u32>(opts.transport), c->ringSlots_, opts.emitOff ? 1u : 0u,
                                   c->shadowVariant_ ? 1u : 0u, static_cast<__u32>(opts.hook)};
        bpf::setProgConfig(obj, cfg, where);  // refuses tc for a plugin built before the tc hook
        bpf::setProgramHook(*obj.findProgram(p.program()), opts.hook);
        obj.findMap(p.messageMap())->setMaxEntries(opts.queueSize);
        auto regions = *obj.findMap(FIZZ_MAP_REGIONS);
        regions.setMaxEntries(c->cpus_);
        regions.setValueSize(c->regionSize_);
        if (opts.spares)
            if (const int spare = opts.spares->lend({c->regionSize_, c->cpus_}); spare >= 0) regions.reuseFd(spare);
        obj.load();

        c->programFd_ = obj.findProgram(p.program())->fd();
        c->queueFd_ = obj.findMap(p.messageMap())->fd();
        c->regionsFd_ = regions.fd();
    } catch (const Error& e) {
        if (std::string_view(e.what()).starts_with(where)) throw;
        throw Error(where + ": " + e.what(), e.code());
    }
    return c;
}

std::unique_ptr<Classifier> Classifier::adopt(std::shared_ptr<const plugin::Plugin> plugin, fizz_transport transport,
                                              Adopted fds, fizz_hook hook) {
    const plugin::Plugin& p = *plugin;
    const std::string where = describe(p) + ": adopt program";
    std::unique_ptr<Classifier> c(new Classifier());
    c->plugin_ = std::move(plugin);
    c->transport_ = transport;
    const uint32_t wantType = hook == FIZZ_HOOK_TC ? BPF_PROG_TYPE_SCHED_CLS : BPF_PROG_TYPE_XDP;
    if (fds.program && bpf::programInfo(fds.program.get()).type != wantType)
        throw Error(where + ": the pinned program is not " + (hook == FIZZ_HOOK_TC ? "a tc" : "an XDP") + " program",
                    EINVAL);
    c->hook_ = hook;
    c->cpus_ = bpf::possibleCpus();
    c->ringSlots_ = transport == FIZZ_TRANSPORT_RING ? fds.ringSlots : 0;
    c->regionSize_ = uint32_t(bpf::regionBytes(p.messageSize(), c->ringSlots_));
    const bpf::MapInfo regions = bpf::mapInfo(fds.regions.get());
    if (regions.type != BPF_MAP_TYPE_ARRAY || !(regions.flags & BPF_F_MMAPABLE) || regions.keySize != sizeof(__u32) ||
        regions.valueSize != c->regionSize_ || regions.maxEntries != c->cpus_)
        throw Error(where + ": pinned map '" FIZZ_MAP_REGIONS "' holds " + std::to_string(regions.maxEntries) + " x " +
                        std::to_string(regions.valueSize) + " bytes; expected " + std::to_string(c->cpus_) +
                        " CPUs x " + std::to_string(c->regionSize_) + " bytes (" + std::to_string(c->ringSlots_) +
                        " slots of " + std::to_string(p.messageSize()) + "-byte messages)",
                    EINVAL);
    const bpf::MapInfo queue = bpf::mapInfo(fds.queue.get());
    if (queue.type != BPF_MAP_TYPE_QUEUE || queue.valueSize != p.messageSize())
        throw Error(where + ": pinned map '" + p.messageMap() + "' is not a queue of " +
                        std::to_string(p.messageSize()) + "-byte messages",
                    EINVAL);
    c->programFd_ = fds.program.get();
    c->regionsFd_ = fds.regions.get();
    c->queueFd_ = fds.queue.get();
    c->adoptedProgram_ = std::move(fds.program);
    c->adoptedRegions_ = std::move(fds.regions);
    c->adoptedQueue_ = std::move(fds.queue);
    return c;
}

uint32_t Classifier::programId() const { return bpf::programId(programFd_); }

}  // namespace fizzhost::runtime
