#include "decoder/worker/syscall_filter.hpp"

#include <fcntl.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include <cerrno>
#include <initializer_list>

namespace fizzhost::decoder::worker {
namespace {

// What the loader, libstdc++, the serving loop and an ordinary decoder call. Nothing that reaches
// outside the process: no socket family, no bpf, no execve/fork/clone, no ptrace, no mount.
constexpr int kStage1[] = {
    // memory
    SCMP_SYS(brk), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
    // the module file (the loader reads it), and descriptors the process already holds
    SCMP_SYS(read), SCMP_SYS(pread64), SCMP_SYS(readv), SCMP_SYS(lseek), SCMP_SYS(close), SCMP_SYS(fstat),
    SCMP_SYS(newfstatat), SCMP_SYS(statx),
    // names inside the chroot (ThreadSanitizer's dlopen reads /proc/self/exe, absent there)
    SCMP_SYS(readlink), SCMP_SYS(readlinkat),
    // waiting, time, identity (a decoder may read the clock; a probe may read who it is)
    SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getrandom), SCMP_SYS(getpid), SCMP_SYS(gettid),
    SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid),
    SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(capget),
    // signals (abort() and raise() block and unblock around tgkill) and leaving
    SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigaction), SCMP_SYS(exit), SCMP_SYS(exit_group),
    SCMP_SYS(rseq),
    // its own alternate signal stack (AddressSanitizer sets one up around calls it intercepts)
    SCMP_SYS(sigaltstack),
};

// libseccomp's SCMP_Ax macros build the comparison with a compound literal that leaves datum_b
// out, which clang's -Wmissing-field-initializers rejects; these spell every field.
constexpr scmp_arg_cmp argEq(unsigned arg, scmp_datum_t value) { return {arg, SCMP_CMP_EQ, value, 0}; }
constexpr scmp_arg_cmp argMasked(unsigned arg, scmp_datum_t mask, scmp_datum_t value) {
    return {arg, SCMP_CMP_MASKED_EQ, mask, value};
}

int allow(scmp_filter_ctx ctx, int nr, std::initializer_list<scmp_arg_cmp> args = {}) {
    return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, unsigned(args.size()), args.begin());
}

int trap(scmp_filter_ctx ctx, int nr, std::initializer_list<scmp_arg_cmp> args = {}) {
    return seccomp_rule_add_array(ctx, SCMP_ACT_TRAP, nr, unsigned(args.size()), args.begin());
}

int buildStage1(scmp_filter_ctx ctx, pid_t self) {
    int rc = 0;
    for (int nr : kStage1)
        if ((rc = allow(ctx, nr)) != 0) return rc;
    // Read-only opens only; inside the chroot there is nothing but the module to open. An open that
    // could write or create fails with EACCES, the answer the kernel gives nobody in that root-owned
    // folder anyway, so a constructor that tries to write a file fails its open rather than the load.
    const scmp_datum_t writeBits[] = {O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, __O_TMPFILE};
    scmp_datum_t writeish = 0;
    for (scmp_datum_t bit : writeBits) {
        writeish |= bit;
        const scmp_arg_cmp writes = argMasked(2, bit, bit);
        rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1, &writes);
        if (rc != 0) return rc;
    }
    if ((rc = allow(ctx, SCMP_SYS(openat), {argMasked(2, writeish, 0)})) != 0) return rc;
    // stdout and stderr are /dev/null: a decoder that prints loses the text, not its worker.
    for (scmp_datum_t fd : {1, 2}) {
        if ((rc = allow(ctx, SCMP_SYS(write), {argEq(0, fd)})) != 0) return rc;
        if ((rc = allow(ctx, SCMP_SYS(writev), {argEq(0, fd)})) != 0) return rc;
    }
    // Signals to itself only (raise, abort).
    if ((rc = allow(ctx, SCMP_SYS(tgkill), {argEq(0, scmp_datum_t(self))})) != 0) return rc;
    if ((rc = allow(ctx, SCMP_SYS(kill), {argEq(0, scmp_datum_t(self))})) != 0) return rc;
    // Loading stage 2 (stage 2 forbids both again).
    if ((rc = allow(ctx, SCMP_SYS(seccomp))) != 0) return rc;
    return allow(ctx, SCMP_SYS(prctl), {argEq(0, PR_SET_NO_NEW_PRIVS)});
}

int buildStage2(scmp_filter_ctx ctx) {
    int rc = 0;
    for (int nr : {SCMP_SYS(openat), SCMP_SYS(rt_sigaction), SCMP_SYS(prctl), SCMP_SYS(seccomp)})
        if ((rc = trap(ctx, nr)) != 0) return rc;
    // No new code: nothing mapped or re-protected executable.
    for (int nr : {SCMP_SYS(mmap), SCMP_SYS(mprotect)})
        if ((rc = trap(ctx, nr, {argMasked(2, PROT_EXEC, PROT_EXEC)})) != 0) return rc;
    return 0;
}

}  // namespace

SyscallFilters::SyscallFilters(pid_t self) noexcept {
    stage1_ = seccomp_init(SCMP_ACT_TRAP);
    stage2_ = seccomp_init(SCMP_ACT_ALLOW);  // stacked on stage 1: it only takes away
    if (!stage1_ || !stage2_) {
        error_ = -ENOMEM;
        step_ = "seccomp_init";
        return;
    }
    // The worker sets no_new_privs itself, before either filter is loaded.
    for (void* ctx : {stage1_, stage2_})
        if ((error_ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) != 0) {
            step_ = "seccomp_attr_set";
            return;
        }
    if ((error_ = buildStage1(stage1_, self)) != 0) {
        step_ = "build the stage 1 filter";
        return;
    }
    if ((error_ = buildStage2(stage2_)) != 0) step_ = "build the stage 2 filter";
}

SyscallFilters::~SyscallFilters() {
    if (stage1_) seccomp_release(stage1_);
    if (stage2_) seccomp_release(stage2_);
}

int SyscallFilters::loadStage1() noexcept { return seccomp_load(stage1_); }
int SyscallFilters::loadStage2() noexcept { return seccomp_load(stage2_); }

}  // namespace fizzhost::decoder::worker
