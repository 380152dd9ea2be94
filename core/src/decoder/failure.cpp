#include "decoder/failure.hpp"

#include "util/text.hpp"

#include <seccomp.h>
#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

namespace fizzhost::decoder {
namespace {

using protocol::Cause;
using protocol::Phase;

const char* phaseWords(uint32_t phase) {
    switch (Phase(phase)) {
    case Phase::Confining: return "while confining itself";
    case Phase::Loading: return "while loading the module";
    case Phase::Describing: return "while reading the descriptor";
    case Phase::Decoding: return "while decoding";
    }
    return "";
}

// The worker's text, as far as it is NUL-terminated and printable.
std::string workerText(const protocol::ControlBlock& c) {
    const void* nul = std::memchr(c.causeText, 0, sizeof c.causeText);
    const size_t n = nul ? size_t(static_cast<const char*>(nul) - c.causeText) : sizeof c.causeText;
    return printable(std::string_view(c.causeText, n));
}

std::string mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

std::string syscallName(uint32_t arch, int nr) {
    std::unique_ptr<char, decltype(&std::free)> name(seccomp_syscall_resolve_num_arch(arch, nr), &std::free);
    if (!name) name.reset(seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr));
    if (!name) return "system call " + std::to_string(nr);
    return std::string(name.get()) + " (" + std::to_string(nr) + ")";
}

std::string signalName(int sig) {
    const char* abbrev = sigabbrev_np(sig);
    const char* text = sigdescr_np(sig);
    std::string s = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
    if (text) s += std::string(" (") + text + ")";
    return s;
}

Failure describeDeath(const protocol::ControlBlock& c, const DeathContext& ctx) {
    const uint32_t phase = c.phase.load(std::memory_order_acquire);
    const std::string when = phaseWords(phase);
    if (ctx.killedForHang)
        return {"hung", "hung for " + std::to_string(ctx.hungFor.count()) + " ms " + when + " (killed)"};
    switch (Cause(c.cause.load(std::memory_order_acquire))) {
    case Cause::ForbiddenSyscall: {
        const std::string name = syscallName(c.causeArch, c.causeNumber);
        return {"forbidden system call " + name.substr(0, name.find(' ')),
                "made a forbidden system call: " + name + " " + when};
    }
    case Cause::OutOfMemory:
        return {"out of memory", "ran out of memory (memory_limit " + mib(ctx.memoryLimit) + ") " + when};
    case Cause::Terminate:
        return {"std::terminate", "called std::terminate " + when + " (an exception left a noexcept function: " +
                                      workerText(c) + ")"};
    case Cause::LoadFailed: return {"load failed", "could not load the module: " + workerText(c)};
    case Cause::ConfineFailed: return {"confinement failed", "could not confine itself: " + workerText(c)};
    case Cause::BadArguments: return {"bad arguments", "refused its arguments: " + workerText(c)};
    case Cause::None: break;
    }
    if (ctx.exit.signaled) {
        const int sig = ctx.exit.status;
        const char* abbrev = sigabbrev_np(sig);
        const std::string category = abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
        if (sig == SIGABRT) return {category, "aborted (" + signalName(sig) + ") " + when};
        if (sig == SIGKILL) return {category, "was killed (" + signalName(sig) + ") " + when};
        return {category, "crashed with " + signalName(sig) + " " + when};
    }
    return {"exit " + std::to_string(ctx.exit.status), "exited with status " + std::to_string(ctx.exit.status) + " " + when};
}

std::optional<Failure> awaitState(WorkerProcess& process, const protocol::ControlBlock& control,
                                  protocol::State state, std::chrono::milliseconds limit, uint64_t memoryLimit) {
    const auto start = std::chrono::steady_clock::now();
    auto pause = std::chrono::microseconds(50);
    for (;;) {
        if (control.state.load(std::memory_order_acquire) == uint32_t(state)) return std::nullopt;
        if (auto exit = process.poll()) {
            if (control.state.load(std::memory_order_acquire) == uint32_t(state)) return std::nullopt;
            return describeDeath(control, {*exit, false, {}, memoryLimit});
        }
        const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
        if (waited > limit) {
            const WorkerExit exit = process.killAndWait();
            return describeDeath(control, {exit, true, waited, memoryLimit});
        }
        std::this_thread::sleep_for(pause);  // polls a child that starts in a few ms
        pause = std::min(pause * 2, std::chrono::microseconds(2000));
    }
}

}  // namespace fizzhost::decoder
