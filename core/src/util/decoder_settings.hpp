// How plugin decoders run: the [decoders] table of the config as one plain struct, which the config
// loader fills and the decoder layer reads (one definition, no translation between them).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace fizzhost {

enum class DecoderIsolation {
    Process,  // the default: each plugin module's decoder in a confined worker process
    None,     // trusted plugins only: the decoder runs inside the host (dlopen), as before
};

struct DecoderSettings {
    DecoderIsolation isolation = DecoderIsolation::Process;
    /// The unprivileged user workers run as (never root).
    std::string user = "nobody";
    /// Address space of one worker (RLIMIT_AS): its libraries, its shared rings (at most 33 MiB) and
    /// whatever the decoder allocates.
    uint64_t memoryLimit = 256ull << 20;
    /// A worker that spends longer than this on one message is killed and restarted.
    std::chrono::milliseconds deadline{1000};
    /// Root-owned folder for the workers' chroot folders (each holds one module copy). Must be on a
    /// file system that allows executable mappings (Debian mounts /run noexec).
    std::filesystem::path root = "/var/lib/fizzhost/decoders";

    bool operator==(const DecoderSettings&) const = default;
};

inline constexpr uint64_t kMinDecoderMemory = 64ull << 20;
inline constexpr uint64_t kMaxDecoderMemory = 1ull << 40;
inline constexpr std::chrono::milliseconds kMinDecoderDeadline{10};
inline constexpr std::chrono::milliseconds kMaxDecoderDeadline{600000};

}  // namespace fizzhost
