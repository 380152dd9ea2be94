// Turns decoded events into JSON or text lines and writes them to the events sink in batches.
// The hot path appends preformatted bytes to a fixed buffer: no allocation per message.
#pragma once

#include "bpf/unique_fd.hpp"

#include <fizzhost/plugin_abi.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::runtime {

enum class EventFormat { Json, Text };

/// Everything about an event but its kind and source, fixed per message source.
struct EventOrigin {
    std::string iface;
    std::string plugin;
    std::string version;
    std::string variant;  // "baseline" | "candidate"
};

/// The bytes before and after the variable parts of one source's events, one prefix per kind.
class EventTemplate {
public:
    EventTemplate(EventFormat format, const EventOrigin& origin, const std::vector<std::string>& kinds);
    std::string_view prefix(uint32_t kind) const { return kind < prefixes_.size() ? prefixes_[kind] : unknown_; }
    std::string_view suffix() const { return suffix_; }

private:
    std::vector<std::string> prefixes_;
    std::string unknown_, suffix_;
};

class EventWriter {
public:
    /// `target` is "-" for stdout or a file path (created, appended). Throws Error.
    EventWriter(const std::string& target, EventFormat format);
    /// Writes to an fd the caller owns (tests, benchmarks).
    EventWriter(int fd, EventFormat format);

    EventFormat format() const { return format_; }
    /// Hot path: appends one event line; flushes by itself when the buffer fills. Never throws.
    void write(const EventTemplate& tpl, const fizzhost_event& event) noexcept;
    /// Writes out what is buffered (end of a batch). Never throws; a failing sink is counted.
    void flush() noexcept;
    uint64_t written() const { return written_; }
    uint64_t writeErrors() const { return writeErrors_; }

private:
    static constexpr size_t kBufferSize = 256 * 1024;
    static constexpr size_t kMaxLine = 512;

    UniqueFd owned_;
    int fd_;
    EventFormat format_;
    std::vector<char> buffer_;
    size_t used_ = 0;
    uint64_t written_ = 0, writeErrors_ = 0;
};

}  // namespace fizzhost::runtime
