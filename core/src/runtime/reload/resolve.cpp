#include "runtime/reload/resolve.hpp"

#include "config/expected_cells.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

#include <fizz/dispatcher.h>
#include <net/if.h>

namespace fizzhost::runtime {
namespace {

std::string located(const config::HostConfig& cfg, config::SourcePosition at) {
    if (cfg.source.empty() || at.line == 0) return "";
    return printable(cfg.source.string()) + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": ";
}

}  // namespace

int interfaceIndex(const std::string& name) {
    unsigned idx = if_nametoindex(name.c_str());
    if (idx == 0)
        throw Error("interface '" + name + "' does not exist in this network namespace (ip link show " + name + ")",
                    ENODEV);
    return int(idx);
}

std::string placed(const config::HostConfig& cfg, const config::Interface& ifc, const std::string& message) {
    const std::string where = "interface '" + ifc.name + "'";
    if (!cfg.source.empty() && message.starts_with(printable(cfg.source.string()) + ":")) return message;
    return located(cfg, ifc.at) + (message.starts_with(where) ? message : where + ": " + message);
}

std::shared_ptr<const plugin::Plugin> findPlugin(const plugin::Catalog& catalog, const config::HostConfig& cfg,
                                                 const config::Interface& ifc, const std::string& ref,
                                                 config::SourcePosition at) {
    try {
        return catalog.find(ref);
    } catch (const Error& e) {
        throw Error(located(cfg, at) + "interface '" + ifc.name + "': " + e.what(), e.code());
    }
}

void requireDistinct(const std::string& where, const config::Interface& ifc, const plugin::Plugin& base,
                     const plugin::Plugin& cand) {
    if (&base == &cand || (base.name() == cand.name() && base.version() == cand.version()))
        throw Error(where + ": rollout candidate '" + ifc.rollout->candidate + "' and classifier '" + ifc.classifier +
                        "' are the same plugin (" + base.name() + "@" + base.version() +
                        "); name another version, e.g. candidate = \"" + cand.name() + "@X.Y.Z\"",
                    EINVAL);
    // Kind names in expected cells are checked here, where both plugins are known: a cell no
    // plugin can produce is a typo that would leave the real difference unexpected.
    if (!ifc.rollout->expected.empty())
        config::checkExpectedKinds(ifc.rollout->expected, base.kinds(), base.name() + " " + base.version(), cand.kinds(),
                                   cand.name() + " " + cand.version(), where);
}

uint32_t costSamplePeriod(const config::Rollout& r) { return r.costSamplePeriod.value_or(FIZZ_COST_SAMPLE_PERIOD); }

ClassifierOptions classifierOptions(const config::HostConfig& cfg) {
    ClassifierOptions o;
    o.transport = cfg.output.transport;
    o.queueSize = cfg.queueSize;
    o.ringSlots = cfg.output.ringSlots;
    o.ringRate = cfg.output.ringRate;
    return o;
}

}  // namespace fizzhost::runtime
