// One program's code for either hook. A classifier (or the host's dispatcher) is compiled once;
// the host loads it as an XDP program, or as a tc program (BPF_PROG_TYPE_SCHED_CLS) that reads the
// frame through the __sk_buff the kernel passes there, by a frozen knob in its configuration
// (<fizz/shared.h>, <fizz/hook.h>). A classifier built against an SDK from before the knob reads
// every context as an xdp_md: it runs on XDP only, and its configuration section is smaller, which
// is how the host tells.
#pragma once

#include "bpf/object.hpp"

#include <fizz/shared.h>

#include <string>
#include <string_view>

namespace fizzhost::bpf {

/// "xdp" or "tc", for messages.
const char* hookName(fizz_hook hook);

/// The SDK generation a classifier object was built with, by the size of its FIZZ_CONFIG_SECTION.
enum class ClassifierSdk {
    PreTc,  // FIZZ_PROG_CONFIG_SIZE_PRE_TC: no hook knob, XDP only
    Tc,     // FIZZ_PROG_CONFIG_SIZE_TC: the current one
};
/// Throws Error: ENOENT when the object has no FIZZ_CONFIG_SECTION, EINVAL for a size no SDK
/// generation had (built against another SDK).
ClassifierSdk classifierSdk(const Object& obj);

/// Throws Error (ENOTSUP) with `where` prefixed ("plugin 'x' (file)") when the object was built
/// with an SDK without the tc hook, saying to rebuild it against this fizzhost's SDK.
void requireTcHook(const Object& obj, const std::string& where);

/// Before load: writes `config` into the object's FIZZ_CONFIG_SECTION, as much of it as the
/// object's SDK generation knows (an older object's section is a prefix of the current struct).
/// Throws Error when the object cannot take it (a tc hook for a pre-tc object: see requireTcHook).
void setProgConfig(Object& obj, const fizz_prog_config& config, const std::string& where);

/// The expected attach type a program gets for `hook`: BPF_XDP, or BPF_TCX_INGRESS. Every program
/// sharing one program array (the dispatcher, its variants, a chained program) must have the same.
uint32_t expectedAttachTypeFor(fizz_hook hook);

/// Before load: makes `program` load for `hook`: as compiled (XDP, BPF_XDP) or as a tc program
/// (BPF_PROG_TYPE_SCHED_CLS, BPF_TCX_INGRESS). The program's own knob (fizz_config.hook for a
/// classifier: setProgConfig; the dispatcher's config) must say the same. Throws Error.
void setProgramHook(Program program, fizz_hook hook);

}  // namespace fizzhost::bpf
