#include "decoder/worker_environment.hpp"

#include "util/error.hpp"
#include "util/file_trust.hpp"

#include <linux/capability.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>
#include <vector>

#ifndef FIZZHOST_DECODER_INSTALL_PATH
#error "FIZZHOST_DECODER_INSTALL_PATH: where the package installs fizzhost-decoder (core/CMakeLists.txt)"
#endif

namespace fizzhost::decoder {
namespace {

constexpr const char* kWorkerName = "fizzhost-decoder";

std::filesystem::path findExecutable() {
    if (const char* env = std::getenv(kWorkerEnv); env && *env) return env;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        // A build tree holds the two side by side; an installed prefix (possibly moved) has it
        // under libexec.
        for (const auto& candidate : {self.parent_path() / kWorkerName,
                                      (self.parent_path() / FIZZHOST_DECODER_RELATIVE_PATH).lexically_normal()})
            if (std::filesystem::exists(candidate, ec)) return candidate;
    }
    return FIZZHOST_DECODER_INSTALL_PATH;
}

// A problem with a file or folder that decides what runs as root: refused, or in insecure mode
// (development) logged.
void judge(const std::vector<std::string>& problems, bool allowInsecure, const std::string& hint) {
    if (problems.empty()) return;
    if (!allowInsecure) throw Error(problems.front() + "; " + trustRule() + " (" + hint + ")", EPERM);
    for (const auto& p : problems) spdlog::warn("INSECURE: {}; used anyway (insecure plugin mode)", p);
}

void resolveUser(const std::string& user, WorkerEnvironment& env) {
    std::vector<char> buf(16384);
    passwd pw{}, *found = nullptr;
    if (::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) == 0 && found) {
        env.uid = pw.pw_uid;
        env.gid = pw.pw_gid;
    } else {
        char* end = nullptr;
        const unsigned long n = std::strtoul(user.c_str(), &end, 10);
        if (user.empty() || *end != 0)
            throw Error("[decoders] user '" + user + "': no such user (the unprivileged user decoders run as)", ENOENT);
        env.uid = uid_t(n);
        env.gid = gid_t(n);
    }
    if (env.uid == 0 || env.gid == 0)
        throw Error("[decoders] user '" + user + "' is uid " + std::to_string(env.uid) + ", gid " + std::to_string(env.gid) +
                        ": decoders never run as root; name an unprivileged user (default \"nobody\")",
                    EINVAL);
}

// What starting and stopping workers takes: chroot, change to the unprivileged user, and signal a
// process that is no longer ours by uid (SIGKILL for a hung worker). Missing ones are named before
// any worker starts, rather than found by a worker that cannot confine itself, or one that cannot
// be stopped.
void requireCapabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0) throwErrno("confined decoders: capget", errno);
    std::string missing;
    for (auto [cap, name] : {std::pair{CAP_SYS_CHROOT, "CAP_SYS_CHROOT"}, {CAP_SETUID, "CAP_SETUID"},
                             {CAP_SETGID, "CAP_SETGID"}, {CAP_KILL, "CAP_KILL"}})
        if (!(data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)))
            missing += (missing.empty() ? "" : ", ") + std::string(name);
    if (!missing.empty())
        throw Error("confined decoders need CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID and CAP_KILL (to chroot a worker, "
                    "make it an unprivileged user and stop it); missing: " + missing +
                        ". Grant them (the shipped systemd unit does), or set [decoders] isolation = \"none\" for "
                        "trusted plugins",
                    EPERM);
}

}  // namespace

DecoderSettings settingsFromEnvironment() {
    DecoderSettings s;
    if (const char* env = std::getenv(kRootEnv); env && *env) s.root = env;
    return s;
}

WorkerEnvironment WorkerEnvironment::resolve(const DecoderSettings& s, bool allowInsecure) {
    if (::geteuid() != 0)
        throw Error("confined decoders need root (to chroot and change to an unprivileged user: CAP_SYS_CHROOT, "
                    "CAP_SETUID, CAP_SETGID); run as root, or set [decoders] isolation = \"none\" for trusted plugins",
                    EPERM);
    requireCapabilities();
    WorkerEnvironment env;
    env.user = s.user;
    env.memoryLimit = s.memoryLimit;
    env.deadline = s.deadline;
    resolveUser(s.user, env);

    env.executable = findExecutable();
    const auto exe = openChecked(env.executable, "decoder worker", "decoder worker folder",
                                 "decoder worker '" + env.executable.string() + "'");
    if (!S_ISREG(exe.st.st_mode) || (exe.st.st_mode & 0111) == 0)
        throw Error("decoder worker '" + env.executable.string() + "' is not an executable file", EACCES);
    judge(exe.problems, allowInsecure, std::string("the worker starts as root; set ") + kWorkerEnv + " to another");

    std::error_code ec;
    if (!std::filesystem::is_directory(s.root, ec)) {
        std::filesystem::create_directories(s.root, ec);
        if (ec) throwErrno("[decoders] root '" + s.root.string() + "': create", ec.value());
        ::chmod(s.root.c_str(), 0755);
    }
    env.root = std::filesystem::canonical(s.root, ec);
    if (ec) throwErrno("[decoders] root '" + s.root.string() + "'", ec.value());
    judge(checkFolderChain("decoder root folder", env.root).problems, allowInsecure,
          "workers chroot into folders made there");
    return env;
}

}  // namespace fizzhost::decoder
