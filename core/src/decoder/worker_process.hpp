// One worker process: started with posix_spawn (fork+exec, so it begins in a clean address space
// holding nothing of the host's), with exactly the shared area (fd 3) and /dev/null (0, 1, 2), in a
// session of its own, every signal at its default and none blocked. Watched through a pidfd, so a
// signal never reaches a recycled pid. RAII: killed and reaped on destruction.
// No control socket: everything the two sides say crosses the shared area, whose rings are all
// there from the start, so no descriptor is ever passed later, and the worker's filter allows no
// socket call at all.
#pragma once

#include "decoder/protocol.hpp"
#include "decoder/worker_environment.hpp"
#include "util/unique_fd.hpp"

#include <sys/types.h>

#include <optional>
#include <string>

namespace fizzhost::decoder {

/// How a worker ended.
struct WorkerExit {
    bool signaled = false;
    int status = 0;  // exit code, or the signal number when signaled
};

class WorkerProcess {
public:
    /// Starts `env.executable` in `mode` for the module `moduleFile` inside `rootDir`, with
    /// `areaFd` as its fd 3. `who` names the plugin in errors. Throws Error (spawn failed).
    WorkerProcess(const WorkerEnvironment& env, protocol::Mode mode, const std::string& rootDir,
                  const std::string& moduleFile, int areaFd, const std::string& who);
    ~WorkerProcess();
    WorkerProcess(const WorkerProcess&) = delete;
    WorkerProcess& operator=(const WorkerProcess&) = delete;

    pid_t pid() const { return pid_; }
    /// The exit, once the process has ended (reaped then; later calls return it again). Never blocks.
    std::optional<WorkerExit> poll() noexcept;
    /// SIGKILL, unless already reaped. Never blocks.
    void kill() noexcept;
    /// Kills and waits for the end (a SIGKILLed process ends promptly).
    WorkerExit killAndWait() noexcept;

private:
    pid_t pid_ = -1;
    UniqueFd pidfd_;
    std::optional<WorkerExit> exit_;
};

}  // namespace fizzhost::decoder
