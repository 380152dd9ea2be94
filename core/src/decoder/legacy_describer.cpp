#include "decoder/legacy_describer.hpp"

#include "decoder/failure.hpp"
#include "decoder/module_root.hpp"
#include "decoder/shared_area.hpp"
#include "decoder/worker_environment.hpp"
#include "decoder/worker_process.hpp"
#include "util/error.hpp"

#include <unistd.h>

#include <memory>
#include <mutex>
#include <optional>

namespace fizzhost::decoder {
namespace {

plugin::LegacyDescription describe(const WorkerEnvironment& env, const plugin::ModuleFile& module,
                                   const std::string& sha256) {
    const std::string who = "plugin file '" + module.path.string() + "' (ABI 1.0 module)";
    SharedArea area(protocol::Mode::Describe, 0, 0, module.path.filename().string());
    ModuleRoot root(env.root, module.bytes, sha256, who);
    WorkerProcess process(env, protocol::Mode::Describe, root.dir().string(), root.fileName(), area.fd(), who);
    const protocol::ControlBlock& c = area.control();
    if (auto failure = awaitState(process, c, protocol::State::Described, kLoadDeadline, env.memoryLimit))
        throw Error(who + ": reading its descriptor in a confined worker failed: its code " + failure->reason, ECHILD);
    process.killAndWait();  // it exits by itself; this only makes sure

    const protocol::Description& d = c.description;
    plugin::LegacyDescription out;
    out.magic = d.magic;
    out.abiMajor = d.abiMajor;
    out.abiMinor = d.abiMinor;
    out.structSize = d.structSize;
    out.record = d.record;
    out.objectSize = d.objectSize;
    if (d.objectSize <= c.objectCapacity) {
        const unsigned char* object = area.base() + c.objectOffset;
        out.object.assign(object, object + d.objectSize);
    }
    return out;
}

}  // namespace

plugin::Describer legacyDescriber(const DecoderSettings& settings, bool allowInsecure) {
    if (::geteuid() != 0) return {};
    // The environment is resolved at the first ABI 1.0 module, not before: most folders have none.
    struct Shared {
        std::once_flag once;
        std::optional<WorkerEnvironment> env;
    };
    auto shared = std::make_shared<Shared>();
    return [settings, allowInsecure, shared](const plugin::ModuleFile& module, const std::string& sha256) {
        std::call_once(shared->once, [&] { shared->env = WorkerEnvironment::resolve(settings, allowInsecure); });
        return describe(*shared->env, module, sha256);
    };
}

}  // namespace fizzhost::decoder
