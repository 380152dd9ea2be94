#include "bpf/hook_load.hpp"

#include "bpf/link_uapi.hpp"
#include "util/error.hpp"

#include <linux/bpf.h>

namespace fizzhost::bpf {

const char* hookName(fizz_hook hook) { return hook == FIZZ_HOOK_TC ? "tc" : "xdp"; }

ClassifierSdk classifierSdk(const Object& obj) {
    auto config = obj.findSectionMap(FIZZ_CONFIG_SECTION);
    if (!config)
        throw Error("BPF object '" + obj.name() + "' has no '" FIZZ_CONFIG_SECTION
                    "' configuration section (built without <fizz/classifier.h>?)",
                    ENOENT);
    // One size per generation, never "at least": a size in between is no SDK we know.
    switch (config->valueSize()) {
    case FIZZ_PROG_CONFIG_SIZE_PRE_TC: return ClassifierSdk::PreTc;
    case FIZZ_PROG_CONFIG_SIZE_TC: return ClassifierSdk::Tc;
    default: break;
    }
    throw Error("BPF object '" + obj.name() + "': its '" FIZZ_CONFIG_SECTION "' section holds " +
                    std::to_string(config->valueSize()) + " bytes; this host knows " +
                    std::to_string(FIZZ_PROG_CONFIG_SIZE_PRE_TC) + " (before the tc hook) and " +
                    std::to_string(FIZZ_PROG_CONFIG_SIZE_TC) + " (built against another SDK?)",
                EINVAL);
}

void requireTcHook(const Object& obj, const std::string& where) {
    if (classifierSdk(obj) == ClassifierSdk::Tc) return;
    throw Error(where + " was built with an SDK without the tc hook (its '" FIZZ_CONFIG_SECTION "' holds " +
                    std::to_string(FIZZ_PROG_CONFIG_SIZE_PRE_TC) + " bytes, no hook setting): its program reads every " +
                    "packet as XDP's; rebuild it against this fizzhost's SDK to run it with hook = \"tc\"",
                ENOTSUP);
}

void setProgConfig(Object& obj, const fizz_prog_config& config, const std::string& where) {
    const ClassifierSdk sdk = classifierSdk(obj);
    if (config.hook != FIZZ_HOOK_XDP) requireTcHook(obj, where);
    const size_t size = sdk == ClassifierSdk::PreTc ? FIZZ_PROG_CONFIG_SIZE_PRE_TC : sizeof config;
    obj.findSectionMap(FIZZ_CONFIG_SECTION)->setInitialValue(&config, size);
}

uint32_t expectedAttachTypeFor(fizz_hook hook) { return hook == FIZZ_HOOK_TC ? uapi::kTcxIngress : uint32_t(BPF_XDP); }

void setProgramHook(Program program, fizz_hook hook) {
    if (!program.isXdp() && program.type() != BPF_PROG_TYPE_SCHED_CLS)
        throw Error("program '" + std::string(program.name()) + "' is neither an XDP nor a tc program (type " +
                        std::to_string(program.type()) + ")",
                    EINVAL);
    if (hook == FIZZ_HOOK_TC)
        program.setType(BPF_PROG_TYPE_SCHED_CLS, uapi::kTcxIngress);
    else
        program.setType(BPF_PROG_TYPE_XDP, BPF_XDP);
}

}  // namespace fizzhost::bpf
