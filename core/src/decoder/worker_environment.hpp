// Everything the host resolves once before it can start confined workers: the worker executable,
// the unprivileged user's ids, the root folder for the chroot folders, the limits.
#pragma once

#include "util/decoder_settings.hpp"

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>

namespace fizzhost::decoder {

/// The environment variable that names the worker executable (tests, an unusual install).
inline constexpr const char* kWorkerEnv = "FIZZHOST_DECODER_WORKER";
/// The environment variable that overrides `[decoders] root` for commands without a config file
/// (classify, plugins, bench) and tests.
inline constexpr const char* kRootEnv = "FIZZHOST_DECODER_ROOT";
/// A worker gets this long to start, confine itself and load its module (a constructor that loops
/// forever is killed after it).
inline constexpr std::chrono::milliseconds kLoadDeadline{5000};

struct WorkerEnvironment {
    std::filesystem::path executable;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string user;
    uint64_t memoryLimit = 0;
    std::chrono::milliseconds deadline{0};
    std::filesystem::path root;  // exists, root-owned, writable by nobody else

    /// Resolves `s`: the worker executable ($FIZZHOST_DECODER_WORKER, else fizzhost-decoder next to
    /// this program, else ../libexec/fizzhost/ from it, else the installed path), the user (never
    /// uid or gid 0), the root folder (created 0755 when missing; it and its parents must pass the
    /// file trust rule). Needs root with CAP_SYS_CHROOT, CAP_SETUID, CAP_SETGID and CAP_KILL, and
    /// names the missing ones. `allowInsecure` (development: insecure plugin mode) logs trust
    /// problems instead of refusing. Throws Error naming the setting and why.
    static WorkerEnvironment resolve(const DecoderSettings& s, bool allowInsecure);
};

/// The settings commands without a config file use: the defaults, with `root` from
/// $FIZZHOST_DECODER_ROOT when set.
DecoderSettings settingsFromEnvironment();

}  // namespace fizzhost::decoder
