// The worker's two seccomp filters (libseccomp). Every call outside them traps (SIGSYS); the
// worker's handler records the call's number and exits, so the host can name it.
//   stage 1, before the module is loaded: what dlopen, the C++ runtime and the serving loop need.
//     Files may be opened read-only (the chroot holds only the module); no socket, no bpf, no
//     execve or fork, no ptrace, signals only to itself, writes only to stdout/stderr (/dev/null).
//   stage 2, once the module is loaded and the handlers are back in place: no openat at all, no
//     executable mapping, no rt_sigaction, no prctl, no further seccomp.
#pragma once

#include <sys/types.h>

namespace fizzhost::decoder::worker {

class SyscallFilters {
public:
    /// Builds both filters (nothing is loaded yet: building may allocate and probe the kernel, which
    /// a loaded filter would forbid). `self`: the worker's pid, the only target of kill/tgkill.
    explicit SyscallFilters(pid_t self) noexcept;
    ~SyscallFilters();
    SyscallFilters(const SyscallFilters&) = delete;
    SyscallFilters& operator=(const SyscallFilters&) = delete;

    /// 0, or the negative errno of the step that failed; `step` names it.
    int built(const char** step) const noexcept {
        *step = step_;
        return error_;
    }
    int loadStage1() noexcept;
    int loadStage2() noexcept;

private:
    void* stage1_ = nullptr;  // scmp_filter_ctx
    void* stage2_ = nullptr;
    int error_ = 0;
    const char* step_ = "";
};

}  // namespace fizzhost::decoder::worker
