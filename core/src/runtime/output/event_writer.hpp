// Turns decoded events into JSON or text lines and writes them to the events sink in batches.
// The hot path appends preformatted bytes and the formatted field values to a fixed buffer: no
// allocation per message.
#pragma once

#include "config/host_config.hpp"
#include "plugin/plugin_info.hpp"
#include "util/output_file.hpp"
#include "util/unique_fd.hpp"

#include <fizzhost/plugin_abi.h>

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace fizzhost::runtime {

using config::EventFormat;  // what [output] format chose; defined once, in the config

/// Everything about an event but its kind and source, fixed per message source.
struct EventOrigin {
    std::string iface;
    std::string plugin;
    std::string version;
    std::string variant;  // "baseline" | "candidate"
};

/// The bytes before and after the variable parts of one source's events: one prefix per kind, the
/// key of each declared field, and the bound on a line's length.
class EventTemplate {
public:
    EventTemplate(EventFormat format, const EventOrigin& origin, const std::vector<std::string>& kinds,
                  const std::vector<plugin::FieldSpec>& fields = {});
    EventFormat format() const { return format_; }
    std::string_view prefix(uint32_t kind) const { return kind < prefixes_.size() ? prefixes_[kind] : unknown_; }
    std::string_view suffix() const { return suffix_; }
    size_t fieldCount() const { return fields_.size(); }
    /// The longest line this template can produce (prefix, every field at its widest, suffix).
    size_t maxLine() const { return maxLine_; }

    /// Appends the fields part (JSON: `,"fields":{...}`; text: ` name=value...`) at `out`, which has
    /// room for maxLine() bytes; returns the bytes written. `values` holds fieldCount() entries.
    size_t formatFields(const fizzhost_field_value* values, char* out) const noexcept;

private:
    struct FieldKey {
        std::string key;  // JSON: "\"name\":" (with the separator before it); text: " name="
        uint32_t type;
    };
    EventFormat format_;
    std::vector<std::string> prefixes_;
    std::string unknown_, suffix_, fieldsOpen_, fieldsClose_;
    std::vector<FieldKey> fields_;
    size_t maxLine_ = 0;
};

/// One field value as the event line shows it (JSON-typed, or text), written at `out` (room for
/// kMaxFieldValue bytes); returns the bytes written. Unset values are `null` (JSON) or `-` (text).
size_t formatFieldValue(EventFormat format, uint32_t type, const fizzhost_field_value& v, char* out) noexcept;
inline constexpr size_t kMaxFieldValue = 2 + 6 * FIZZHOST_FIELD_TEXT_MAX;  // a fully escaped string, quoted

/// What became of one message source's events at the output: written (the write that carried them
/// succeeded) or lost (it failed). Counted by the pump thread, read by any thread.
struct OutputCounters {
    std::atomic<uint64_t> written{0}, lost{0};
};

/// Buffers event lines and writes them in batches. Every buffered line remembers whose it is, so a
/// flush counts exactly the lines that reached the sink as written and the others as lost, for the
/// writer and for the line's source. A failing write is logged (at most one line per
/// kErrorLogInterval) and the writer keeps going. One thread writes and flushes (the pump); the
/// counters and requestReopen() may be used from any thread.
class EventWriter {
public:
    /// `target` is "-" for stdout or a file path, opened by util/output_file's rules (its folder
    /// checked and held, no symlink followed; a missing file created with `mode`; a FIFO nobody
    /// reads yet is no error: its events are counted lost until a reader opens it). Throws Error.
    EventWriter(const std::string& target, EventFormat format, OutputFileMode mode = {});
    /// Writes to an fd the caller owns (tests, benchmarks).
    EventWriter(int fd, EventFormat format);

    EventFormat format() const { return format_; }
    /// Hot path: appends one event line with its fields (`fields` holds tpl.fieldCount() values, may
    /// be null when there are none); flushes by itself when the buffer fills. `counters` (may be
    /// null; must stay valid until the next flush) learns the line's fate. Never throws, never allocates.
    void write(const EventTemplate& tpl, const fizzhost_event& event, const fizzhost_field_value* fields = nullptr,
               OutputCounters* counters = nullptr) noexcept;
    /// Writes out what is buffered (end of a batch); reopens the events file first when asked to
    /// or when it was renamed or deleted (checked at most once per kPathCheckInterval). Never
    /// throws; a failing sink is counted and logged.
    void flush() noexcept;
    /// Any thread: a control-plane record (one complete line without its newline, a JSON object in
    /// the JSON format) written at the next flush between event lines; not counted as an event.
    /// The caller wakes the flushing thread. Throws only std::bad_alloc.
    void writeRecord(std::string line);
    /// Any thread: the events file is closed and opened again by path at the next flush (SIGUSR1,
    /// after logrotate moved it). No effect on stdout or a caller's fd.
    void requestReopen() noexcept { reopenRequested_.store(true, std::memory_order_relaxed); }

    /// Events whose write succeeded / failed, and failed write calls. Any thread.
    uint64_t written() const { return written_.load(std::memory_order_relaxed); }
    uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }
    uint64_t writeErrors() const { return writeErrors_.load(std::memory_order_relaxed); }
    /// The errno of the last failed write (0: none yet). Any thread.
    int lastError() const { return lastError_.load(std::memory_order_relaxed); }
    /// Times the events file was opened again. Any thread.
    uint64_t reopens() const { return reopens_.load(std::memory_order_relaxed); }
    /// Where the events go, for messages: the path, or "stdout" / "fd N".
    const std::string& name() const { return name_; }

    static constexpr std::chrono::seconds kErrorLogInterval{5};
    static constexpr std::chrono::seconds kPathCheckInterval{1};

private:
    static constexpr size_t kBufferSize = 256 * 1024;
    // Lines buffered at most: a line is at least a prefix, an address and a newline, well over 16
    // bytes, so this bound is reached only by lines shorter than any template makes.
    static constexpr size_t kMaxLines = kBufferSize / 16;
    struct Line {
        OutputCounters* counters;
        size_t end;           // offset just past the line's newline
        bool record = false;  // a control-plane record, not an event
    };

    /// Counts lines [0, lineCount_) as written when they end within the first `done` bytes, else lost.
    void settle(size_t done, int err) noexcept;
    /// Writes the buffer out and settles its lines.
    void writeOut() noexcept;
    /// Moves the records waiting into the buffer (writing out first when they do not fit).
    void takeRecords() noexcept;
    void logWriteError(int err, uint64_t lostNow) noexcept;
    void checkPath() noexcept;
    void reopen(const char* why) noexcept;  // why == nullptr: the retry of a sink that is not open
    void take(OutputOpen&& opened) noexcept;
    void closeSink(int err, const char* why, const std::string& reason) noexcept;

    std::unique_ptr<OutputFile> file_;  // the events file's folder and name; null for stdout or a caller's fd
    OutputKind kind_ = OutputKind::Regular;
    int sinkError_ = 0;       // while fd_ < 0: why there is no sink (ENXIO, EPIPE, ELOOP, EPERM, ...)
    std::string sinkReason_;  // ... in words, logged once per change
    std::string name_;
    UniqueFd owned_;
    int fd_;
    EventFormat format_;
    std::vector<char> buffer_;
    std::unique_ptr<Line[]> lines_;
    size_t used_ = 0, lineCount_ = 0;
    bool brokenLine_ = false;  // a partial write left a line without its newline in the sink
    std::atomic<uint64_t> written_{0}, lost_{0}, writeErrors_{0}, reopens_{0};
    std::atomic<int> lastError_{0};
    std::atomic<bool> reopenRequested_{false};
    std::mutex recordsMutex_;
    std::vector<std::string> records_;  // waiting for the next flush
    // Flushing thread only.
    std::chrono::steady_clock::time_point nextPathCheck_{}, nextErrorLog_{};
    uint64_t lostSinceLog_ = 0;
};

}  // namespace fizzhost::runtime
