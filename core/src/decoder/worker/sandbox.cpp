#include "decoder/worker/sandbox.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cxxabi.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <typeinfo>

// Sanitizer builds (scripts/sanitize.sh): AddressSanitizer and ThreadSanitizer reserve terabytes of
// shadow address space.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FIZZHOST_WORKER_SHADOW_MEMORY 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FIZZHOST_WORKER_SHADOW_MEMORY 1
#endif

namespace fizzhost::decoder::worker {
namespace {

protocol::ControlBlock* gControl = nullptr;  // for the handlers; set once before any is installed

// Exit statuses: the cause in the control block says more; these only keep the two apart when a
// module scribbled over it.
constexpr int kExitForbidden = 80;
constexpr int kExitOutOfMemory = 81;
constexpr int kExitTerminate = 82;

void copyText(char* dst, size_t cap, const char* a, const char* b = "") noexcept {
    size_t n = 0;
    for (const char* s : {a, b})
        for (; s && *s && n + 1 < cap; ++s) dst[n++] = *s;
    dst[n] = 0;
}

// SIGSYS from a seccomp RET_TRAP: the call did not happen. Name it and leave; the host words it.
void onForbiddenSyscall(int, siginfo_t* info, void*) {
    if (gControl) {
        gControl->causeNumber = info->si_syscall;
        gControl->causeArch = info->si_arch;
        gControl->cause.store(uint32_t(protocol::Cause::ForbiddenSyscall), std::memory_order_release);
    }
    _exit(kExitForbidden);
}

void onOutOfMemory() {
    if (gControl) gControl->cause.store(uint32_t(protocol::Cause::OutOfMemory), std::memory_order_release);
    _exit(kExitOutOfMemory);
}

// An exception that left a noexcept function (or anything else that calls std::terminate).
void onTerminate() {
    if (gControl) {
        const char* what = "no exception in flight";
        const char* type = "";
        if (std::exception_ptr e = std::current_exception()) {
            what = "an exception of unknown type";
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                int status = 0;
                const char* mangled = typeid(ex).name();
                char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
                type = readable ? readable : mangled;  // left to the process's end
                what = ex.what();
            } catch (...) {
            }
        }
        copyText(gControl->causeText, sizeof gControl->causeText, type, *type ? ": " : "");
        const size_t used = std::strlen(gControl->causeText);
        copyText(gControl->causeText + used, sizeof gControl->causeText - used, what);
        gControl->cause.store(uint32_t(protocol::Cause::Terminate), std::memory_order_release);
    }
    _exit(kExitTerminate);
}

bool failStep(protocol::ControlBlock& control, const char* step) noexcept {
    const int err = errno;
    char text[160];
    std::snprintf(text, sizeof text, "%s: %s", step, std::strerror(err));
    recordCause(control, protocol::Cause::ConfineFailed, err, text);
    return false;
}

bool setLimit(int resource, rlim_t value) noexcept {
    const rlimit r{value, value};
    return ::setrlimit(resource, &r) == 0;
}

}  // namespace

void recordCause(protocol::ControlBlock& control, protocol::Cause cause, int number, const char* text) noexcept {
    control.causeNumber = number;
    copyText(control.causeText, sizeof control.causeText, text);
    control.cause.store(uint32_t(cause), std::memory_order_release);
}

void installHandlers(protocol::ControlBlock& control) noexcept {
    gControl = &control;
    struct sigaction sa {};
    sa.sa_sigaction = onForbiddenSyscall;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGSYS, &sa, nullptr);
    // A fatal signal's default action is what the host reads (WTERMSIG); a module must not have
    // left a handler of its own that hides a crash.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP}) ::signal(sig, SIG_DFL);
    std::set_new_handler(onOutOfMemory);
    std::set_terminate(onTerminate);
}

bool confine(const Confinement& c, protocol::ControlBlock& control) noexcept {
    if (c.uid == 0 || c.gid == 0) {
        errno = EINVAL;
        return failStep(control, "refusing to run a decoder as uid or gid 0");
    }
    if (::chroot(c.root) != 0) return failStep(control, "chroot");
    if (::chdir("/") != 0) return failStep(control, "chdir /");
    // The bounding set matters only to a later execve, which no_new_privs and the filter rule out;
    // drop it anyway where the host may (CAP_SETPCAP), and go on where it may not.
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    if (::setgroups(0, nullptr) != 0) return failStep(control, "setgroups(0)");
    if (::setresgid(c.gid, c.gid, c.gid) != 0) return failStep(control, "setresgid");
    if (::setresuid(c.uid, c.uid, c.uid) != 0) return failStep(control, "setresuid");
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    // Leaving uid 0 cleared the permitted and effective sets; the inheritable one stays until
    // cleared. Then every set must read back empty.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capset, &header, data) != 0) return failStep(control, "capset (clear)");
    if (::syscall(SYS_capget, &header, data) != 0) return failStep(control, "capget");
    for (const auto& d : data)
        if (d.effective || d.permitted || d.inheritable) {
            errno = EPERM;
            return failStep(control, "capabilities remain after dropping root");
        }
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (::getresuid(&ru, &eu, &su) != 0 || ::getresgid(&rg, &eg, &sg) != 0 || ru != c.uid || eu != c.uid ||
        su != c.uid || rg != c.gid || eg != c.gid || sg != c.gid) {
        errno = EPERM;
        return failStep(control, "the user and group ids did not change");
    }
    // Changing credentials cleared any parent-death signal: set it now, then make sure the host did
    // not die before it took effect.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) return failStep(control, "PR_SET_PDEATHSIG");
    if (::getppid() != c.hostPid) {
        errno = ESRCH;
        return failStep(control, "the host is gone");
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failStep(control, "PR_SET_NO_NEW_PRIVS");
    if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return failStep(control, "PR_SET_DUMPABLE");
#ifndef FIZZHOST_WORKER_SHADOW_MEMORY
    // A sanitizer's shadow memory does not fit any sane bound, so a sanitizer build runs its workers
    // without this one limit (scripts/sanitize.sh); every other build is bounded.
    if (!setLimit(RLIMIT_AS, rlim_t(c.memoryLimit))) return failStep(control, "RLIMIT_AS");
#endif
    // stdin, stdout, stderr, the area, and one for dlopen to read the module through.
    if (!setLimit(RLIMIT_NOFILE, 8)) return failStep(control, "RLIMIT_NOFILE");
    if (!setLimit(RLIMIT_NPROC, 0)) return failStep(control, "RLIMIT_NPROC");
    if (!setLimit(RLIMIT_FSIZE, 0)) return failStep(control, "RLIMIT_FSIZE");
    if (!setLimit(RLIMIT_CORE, 0)) return failStep(control, "RLIMIT_CORE");
    return true;
}

}  // namespace fizzhost::decoder::worker
