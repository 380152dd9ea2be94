#include "runtime/classifier.hpp"

#include "bpf/map.hpp"
#include "bpf/xdp_link.hpp"
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

    auto requireMap = [&](const std::string& name, uint32_t type, const char* typeName) {
        auto map = obj.findMap(name);
        if (!map)
            throw Error(where + ": BPF object has no map '" + name + "' (declare it with FIZZ_MESSAGE() from " +
                            "<fizz/classifier.h>)",
                        ENOENT);
        if (map->type() != type)
            throw Error(where + ": map '" + name + "' is of type " + std::to_string(map->type()) + ", expected " +
                            typeName,
                        EINVAL);
        return *map;
    };
    auto events = requireMap(p.messageMap(), BPF_MAP_TYPE_QUEUE, "BPF_MAP_TYPE_QUEUE");
    if (events.valueSize() != p.messageSize())
        throw Error(where + ": message size mismatch: the decoder expects " + std::to_string(p.messageSize()) +
                        " bytes, map '" + p.messageMap() + "' holds " + std::to_string(events.valueSize()) +
                        "-byte values (BPF program and decoder built from different message headers?)",
                    EINVAL);
    auto stats = requireMap(FIZZ_MAP_STATS, BPF_MAP_TYPE_PERCPU_ARRAY, "BPF_MAP_TYPE_PERCPU_ARRAY");
    if (stats.valueSize() != sizeof(fizz_stats))
        throw Error(where + ": map '" FIZZ_MAP_STATS "' value is " + std::to_string(stats.valueSize()) +
                        " bytes, this host's struct fizz_stats is " + std::to_string(sizeof(fizz_stats)) +
                        " (built against another SDK?)",
                    EINVAL);
    requireMap(FIZZ_MAP_RINGS, BPF_MAP_TYPE_ARRAY_OF_MAPS, "BPF_MAP_TYPE_ARRAY_OF_MAPS");
    auto config = obj.findSectionMap(FIZZ_CONFIG_SECTION);
    if (!config || config->valueSize() != sizeof(fizz_prog_config))
        throw Error(where + ": BPF object lacks the '" FIZZ_CONFIG_SECTION "' configuration of <fizz/classifier.h>",
                    ENOENT);
}

}  // namespace

std::string describe(const plugin::Plugin& plugin) {
    return "plugin '" + plugin.name() + "' (" + plugin.path().string() + ")";
}

void Classifier::inspect(const plugin::Plugin& p) {
    const std::string where = describe(p);
    try {
        bpf::Object obj = bpf::Object::openMemory(p.bpfObject(), p.name());
        checkObject(obj, p, where);
    } catch (const Error& e) {
        if (std::string_view(e.what()).starts_with(where)) throw;
        throw Error(where + ": " + e.what(), e.code());
    }
}

std::unique_ptr<Classifier> Classifier::load(std::shared_ptr<const plugin::Plugin> plugin,
                                             const ClassifierOptions& opts) {
    const plugin::Plugin& p = *plugin;
    const std::string where = describe(p);
    std::unique_ptr<Classifier> c(new Classifier());
    c->plugin_ = std::move(plugin);
    c->opts_ = opts;
    try {
        c->object_.emplace(bpf::Object::openMemory(p.bpfObject(), p.name()));
        bpf::Object& obj = *c->object_;
        checkObject(obj, p, where);

        // Only the program the descriptor names is loaded; others in the object stay inert.
        // Wake the consumer when an eighth of a ring is waiting; it polls smaller batches itself.
        fizz_prog_config cfg{static_cast<__u32>(opts.transport), opts.slot, opts.ringSize / 8};
        obj.findSectionMap(FIZZ_CONFIG_SECTION)->setInitialValue(&cfg, sizeof cfg);
        obj.findMap(p.messageMap())->setMaxEntries(opts.queueSize);

        if (opts.statsFd >= 0) {
            c->statsFd_ = opts.statsFd;
        } else {
            c->ownStats_ = bpf::createMap({BPF_MAP_TYPE_PERCPU_ARRAY, FIZZ_MAP_STATS, 4, sizeof(fizz_stats), FIZZ_MAX_SLOTS});
            c->statsFd_ = c->ownStats_.get();
        }
        obj.findMap(FIZZ_MAP_STATS)->reuseFd(c->statsFd_);

        const unsigned cpus = bpf::possibleCpus();
        auto ringsMap = *obj.findMap(FIZZ_MAP_RINGS);
        if (opts.transport == FIZZ_TRANSPORT_RINGBUF) {
            ringsMap.setMaxEntries(cpus);
            for (unsigned cpu = 0; cpu < cpus; ++cpu)
                c->ringFds_.push_back(
                    bpf::createMap({BPF_MAP_TYPE_RINGBUF, "fizz_ring", 0, 0, opts.ringSize, 0, -1}));
            // The inner template fixes the ring size the kernel accepts: use a real ring as it.
            ringsMap.setInnerMapFd(c->ringFds_[0].get());
        }
        obj.load();

        c->programFd_ = obj.findProgram(p.program())->fd();
        c->queueFd_ = obj.findMap(p.messageMap())->fd();
        for (unsigned cpu = 0; cpu < c->ringFds_.size(); ++cpu) {
            uint32_t value = uint32_t(c->ringFds_[cpu].get());
            bpf::updateElem(ringsMap.fd(), &cpu, &value, "install ring of CPU " + std::to_string(cpu));
            c->rings_.add(c->ringFds_[cpu].get(), &Classifier::onRingRecord, c.get());
        }
        c->popBuffer_.resize(p.messageSize());
    } catch (const Error& e) {
        if (std::string_view(e.what()).starts_with(where)) throw;
        throw Error(where + ": " + e.what(), e.code());
    }
    return c;
}

uint32_t Classifier::programId() const { return bpf::programId(programFd_); }

void Classifier::setHandler(MessageHandler* handler) { handler_ = handler; }

int Classifier::onRingRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Classifier*>(ctx);
    if (self->handler_) self->handler_->onMessage(data, uint32_t(size));
    return 0;
}

size_t Classifier::drain(size_t max) noexcept {
    if (opts_.transport == FIZZ_TRANSPORT_RINGBUF) {
        try {
            return rings_.consume();
        } catch (...) {
            return 0;
        }
    }
    size_t n = 0;
    while (n < max) {
        // A queue map is popped with a NULL key; ENOENT means empty.
        if (bpf_map_lookup_and_delete_elem(queueFd_, nullptr, popBuffer_.data()) != 0) break;
        ++n;
        if (handler_) handler_->onMessage(popBuffer_.data(), uint32_t(popBuffer_.size()));
    }
    return n;
}

}  // namespace fizzhost::runtime
