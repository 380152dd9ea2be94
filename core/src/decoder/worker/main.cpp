// fizzhost-decoder: runs one plugin module's decoder for the host, confined. Started only by the
// host (fork+exec, a clean address space holding nothing of the host's), as root, with the shared
// area on fd 3 and stdin/stdout/stderr on /dev/null:
//
//     fizzhost-decoder decode|describe ROOT MODULE UID GID MEMORY_LIMIT
//
// ROOT is a root-owned folder holding only MODULE (the module's sealed bytes as <sha256>.so). The
// worker confines itself (sandbox.hpp) and loads the stage 1 syscall filter before the module is
// mapped, so its constructors already run unprivileged, chrooted and filtered; then dlopen, the
// descriptor, stage 2, and either the description (describe) or the decoding loop (decode).
// Everything it reports goes into the area's control block; the host trusts none of it.
#include "decoder/protocol.hpp"
#include "decoder/worker/sandbox.hpp"
#include "decoder/worker/serve.hpp"
#include "decoder/worker/syscall_filter.hpp"

#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace fizzhost::decoder;
using protocol::Cause;

namespace {

constexpr int kExitFailed = 70;

bool parseNumber(const char* s, unsigned long long& out) {
    if (s == nullptr || *s == 0) return false;
    char* end = nullptr;
    errno = 0;
    out = std::strtoull(s, &end, 10);
    return errno == 0 && *end == 0;
}

[[noreturn]] void fail(protocol::ControlBlock& control, Cause cause, int number, const char* text) {
    worker::recordCause(control, cause, number, text);
    _exit(kExitFailed);
}

protocol::ControlBlock* mapArea(unsigned char*& area) {
    struct stat st {};
    if (::fstat(protocol::kAreaFd, &st) != 0 || uint64_t(st.st_size) < sizeof(protocol::ControlBlock)) return nullptr;
    void* p = ::mmap(nullptr, size_t(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, protocol::kAreaFd, 0);
    if (p == MAP_FAILED) return nullptr;
    area = static_cast<unsigned char*>(p);
    auto* control = reinterpret_cast<protocol::ControlBlock*>(p);
    if (control->magic != protocol::kMagic || control->version != protocol::kVersion ||
        control->areaSize != uint64_t(st.st_size))
        return nullptr;
    return control;
}

}  // namespace

int main(int argc, char** argv) {
    unsigned char* area = nullptr;
    protocol::ControlBlock* control = mapArea(area);
    if (control == nullptr) return kExitFailed;  // nothing to report into: the host sees the status
    ::close(protocol::kAreaFd);  // the mapping stays; the descriptor would only be one more to misuse
    unsigned long long uid = 0, gid = 0, memory = 0;
    const bool describeOnly = argc == 7 && std::strcmp(argv[1], "describe") == 0;
    if (argc != 7 || (!describeOnly && std::strcmp(argv[1], "decode") != 0) || !parseNumber(argv[4], uid) ||
        !parseNumber(argv[5], gid) || !parseNumber(argv[6], memory) ||
        (describeOnly != (control->mode == protocol::Mode::Describe)))
        fail(*control, Cause::BadArguments, EINVAL,
             "usage: fizzhost-decoder decode|describe ROOT MODULE UID GID MEMORY_LIMIT (started by the host)");

    control->phase.store(uint32_t(protocol::Phase::Confining), std::memory_order_relaxed);
    worker::installHandlers(*control);
    worker::SyscallFilters filters(::getpid());
    const char* step = "";
    if (int rc = filters.built(&step); rc != 0) fail(*control, Cause::ConfineFailed, -rc, step);
    const worker::Confinement confinement{argv[2], uid_t(uid), gid_t(gid), memory, control->hostPid};
    if (!worker::confine(confinement, *control)) _exit(kExitFailed);
    if (int rc = filters.loadStage1(); rc != 0) fail(*control, Cause::ConfineFailed, -rc, "load the stage 1 filter");

    // From here on the module's code runs: unprivileged, chrooted, filtered.
    control->phase.store(uint32_t(protocol::Phase::Loading), std::memory_order_relaxed);
    char path[256];
    std::snprintf(path, sizeof path, "/%s", argv[3]);
    void* module = ::dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (module == nullptr) {
        const char* why = ::dlerror();
        fail(*control, Cause::LoadFailed, 0, why ? why : "dlopen failed");
    }
    auto entry = reinterpret_cast<fizzhost_plugin_entry_fn>(::dlsym(module, FIZZHOST_PLUGIN_ENTRY_SYMBOL));
    if (entry == nullptr)
        fail(*control, Cause::LoadFailed, 0, "not a fizzhost plugin (no '" FIZZHOST_PLUGIN_ENTRY_SYMBOL "' entry point)");
    control->phase.store(uint32_t(protocol::Phase::Describing), std::memory_order_relaxed);
    const fizzhost_plugin_descriptor* d = entry();
    if (d == nullptr) fail(*control, Cause::LoadFailed, 0, "the entry point returned no descriptor");
    worker::describe(*d, *control, describeOnly ? area : nullptr);
    if (describeOnly) {
        // Leave without the module's destructors: the description is all the host asked for.
        control->state.store(uint32_t(protocol::State::Described), std::memory_order_release);
        _exit(0);
    }
    const bool fieldsDecoder =
        d->abi_minor >= 1 && d->struct_size >= FIZZHOST_DESCRIPTOR_SIZE_1_1 && d->decode_fields != nullptr;
    if (d->decode == nullptr && !fieldsDecoder)
        fail(*control, Cause::LoadFailed, 0, "the descriptor has no decode function");

    worker::installHandlers(*control);  // a constructor may have replaced them
    if (int rc = filters.loadStage2(); rc != 0) fail(*control, Cause::ConfineFailed, -rc, "load the stage 2 filter");
    control->phase.store(uint32_t(protocol::Phase::Decoding), std::memory_order_relaxed);
    control->state.store(uint32_t(protocol::State::Ready), std::memory_order_release);
    worker::serve(*control, area, *d);
}
