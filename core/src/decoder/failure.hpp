// Why a worker ended, in words: from how it exited (signal, status), what it recorded in the control
// block (a forbidden system call, out of memory, std::terminate, a load failure) and what the host
// did (killed it for hanging). The control block is the worker's word: a module can scribble on it,
// so it only ever refines the description of the worker's own end.
#pragma once

#include "decoder/protocol.hpp"
#include "decoder/worker_process.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace fizzhost::decoder {

struct Failure {
    /// A short, stable category for counting: "SIGSEGV", "forbidden system call socket",
    /// "out of memory", "hung", "std::terminate", "exit 3", "load failed", ...
    std::string category;
    /// The sentence for logs and results: "crashed with SIGSEGV (Segmentation fault) while decoding".
    std::string reason;
};

/// What the host knew when the worker ended.
struct DeathContext {
    WorkerExit exit;
    bool killedForHang = false;
    std::chrono::milliseconds hungFor{0};
    uint64_t memoryLimit = 0;
};

/// Describes the end of a worker from its exit and its control block.
Failure describeDeath(const protocol::ControlBlock& control, const DeathContext& context);

/// "openat (257)": the name of system call `nr` on audit architecture `arch` (libseccomp), with
/// its number; "system call 999" for one it does not know.
std::string syscallName(uint32_t arch, int nr);

/// "SIGSEGV (Segmentation fault)".
std::string signalName(int sig);

/// Waits (polling, up to `limit`) until the worker reports `state`, and returns nothing; or returns
/// why it did not: it ended (its death described), or it did not get there in time (killed). Used
/// where the host must wait for a worker: the first start of a plugin's worker, a description.
std::optional<Failure> awaitState(WorkerProcess& process, const protocol::ControlBlock& control,
                                  protocol::State state, std::chrono::milliseconds limit, uint64_t memoryLimit);

}  // namespace fizzhost::decoder
