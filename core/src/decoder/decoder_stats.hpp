// What a DecoderService reports per plugin module: how its decoder runs, how often its worker was
// restarted and why, and the messages counted undecodable because the worker died on them.
// (status and metrics take these in a later step.)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

namespace fizzhost::decoder {

struct DecoderStats {
    std::string plugin, version, sha256;
    std::filesystem::path file;
    bool confined = true;
    pid_t pid = 0;        // the worker now running, 0 when none
    size_t channels = 0;  // open channels
    uint64_t starts = 0;    // workers started, the first included
    uint64_t restarts = 0;  // workers that ended and were (or will be) replaced
    std::string lastReason;  // why the last one ended
    /// Messages the host declared undecodable after the worker died on them twice, by the
    /// category of the second death ("SIGSEGV", "forbidden system call socket", "hung", ...), and
    /// the messages refused while the decoder was disabled ("disabled").
    std::map<std::string, uint64_t> undecodable;
    bool disabled = false;  // too many restarts: every message is undecodable until the window passes
    std::string disabledReason;
};

}  // namespace fizzhost::decoder
