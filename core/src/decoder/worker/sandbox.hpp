// The worker's confinement, applied while it is still root and before any byte of the module is
// mapped executable, so even the module's constructors run unprivileged, chrooted and filtered.
// Worker side only (fizzhost-decoder): no host library, no allocation after a failure.
#pragma once

#include "decoder/protocol.hpp"

#include <sys/types.h>

#include <cstdint>

namespace fizzhost::decoder::worker {

struct Confinement {
    const char* root = nullptr;  // the folder holding only the module copy
    uid_t uid = 0;
    gid_t gid = 0;
    uint64_t memoryLimit = 0;  // RLIMIT_AS, bytes
    pid_t hostPid = 0;
};

/// Records why the worker stops (cause, a number, a text) in the control block, for the host.
void recordCause(protocol::ControlBlock& control, protocol::Cause cause, int number, const char* text) noexcept;

/// Installs the worker's own SIGSYS handler (names the forbidden call in the control block, then
/// exits), its new-handler (records "out of memory") and its terminate handler. Called before the
/// module is loaded and again after (a constructor may have replaced them), before stage 2 forbids
/// rt_sigaction.
void installHandlers(protocol::ControlBlock& control) noexcept;

/// chroot + chdir("/"), no supplementary groups, setresgid/setresuid to the given ids, every
/// capability set verified empty (capget), parent-death signal, no_new_privs, not dumpable,
/// rlimits (address space, files, processes, file size, core). Returns false after recording the
/// failed step (Cause::ConfineFailed, errno) in the control block.
bool confine(const Confinement& c, protocol::ControlBlock& control) noexcept;

}  // namespace fizzhost::decoder::worker
