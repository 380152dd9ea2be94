#include "decoder/worker_process.hpp"

#include "util/error.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>

namespace fizzhost::decoder {
namespace {

// Spawn attributes and file actions, released whatever happens.
struct SpawnSetup {
    posix_spawnattr_t attr{};
    posix_spawn_file_actions_t actions{};
    SpawnSetup() {
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_init(&actions);
    }
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
};

constexpr int kStopWaitMs = 5000;

WorkerExit fromStatus(int status) {
    if (WIFSIGNALED(status)) return {true, WTERMSIG(status)};
    return {false, WEXITSTATUS(status)};
}

}  // namespace

WorkerProcess::WorkerProcess(const WorkerEnvironment& env, protocol::Mode mode, const std::string& rootDir,
                             const std::string& moduleFile, int areaFd, const std::string& who) {
    const std::string where = who + ": start decoder worker '" + env.executable.string() + "'";
    UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devnull) throwErrno(where + ": open /dev/null", errno);
    SpawnSetup s;
    // Only the area and /dev/null cross over; everything else the host holds stays behind.
    posix_spawn_file_actions_adddup2(&s.actions, devnull.get(), 0);
    posix_spawn_file_actions_adddup2(&s.actions, devnull.get(), 1);
    posix_spawn_file_actions_adddup2(&s.actions, devnull.get(), 2);
    posix_spawn_file_actions_adddup2(&s.actions, areaFd, protocol::kAreaFd);
    posix_spawn_file_actions_addclosefrom_np(&s.actions, protocol::kAreaFd + 1);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&s.attr, &all);  // the host ignores SIGPIPE; the worker must not inherit that
    posix_spawnattr_setsigmask(&s.attr, &none);
    // A session of its own: a terminal's ^C reaches the host, which decides about its workers.
    posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);

    const std::string exe = env.executable.string();
    const std::array<std::string, 7> args = {exe,
                                             mode == protocol::Mode::Describe ? "describe" : "decode",
                                             rootDir,
                                             moduleFile,
                                             std::to_string(env.uid),
                                             std::to_string(env.gid),
                                             std::to_string(env.memoryLimit)};
    std::array<char*, 8> argv{};
    for (size_t i = 0; i < args.size(); ++i) argv[i] = const_cast<char*>(args[i].c_str());
    char* envp[] = {nullptr};  // nothing of the host's environment
    const int rc = ::posix_spawn(&pid_, exe.c_str(), &s.actions, &s.attr, argv.data(), envp);
    if (rc != 0) throwErrno(where, rc);
    pidfd_ = UniqueFd(int(::syscall(SYS_pidfd_open, pid_, 0)));
    if (!pidfd_) {
        const int err = errno;
        killAndWait();
        throwErrno(where + ": pidfd_open", err);
    }
}

WorkerProcess::~WorkerProcess() { killAndWait(); }

std::optional<WorkerExit> WorkerProcess::poll() noexcept {
    if (exit_ || pid_ < 0) return exit_;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) exit_ = fromStatus(status);
    return exit_;
}

void WorkerProcess::kill() noexcept {
    if (exit_ || pid_ < 0) return;
    if (pidfd_) ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
}

WorkerExit WorkerProcess::killAndWait() noexcept {
    if (exit_ || pid_ < 0) return exit_.value_or(WorkerExit{});
    kill();
    if (!pidfd_) {
        ::kill(pid_, SIGKILL);  // only before pidfd_open: the child is unreaped, so pid_ is still ours
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        exit_ = fromStatus(status);
        return *exit_;
    }
    // A SIGKILLed process ends at once; one the signal did not reach (no CAP_KILL) is not waited for
    // forever.
    pollfd p{pidfd_.get(), POLLIN, 0};
    for (int waited = 0; waited < kStopWaitMs && !poll(); waited += 10) ::poll(&p, 1, 10);
    if (!exit_) {
        spdlog::error("decoder worker pid {} did not end after SIGKILL (the host needs CAP_KILL); left running", pid_);
        exit_ = WorkerExit{true, SIGKILL};
    }
    return *exit_;
}

}  // namespace fizzhost::decoder
