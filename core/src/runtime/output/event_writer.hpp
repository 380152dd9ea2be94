// Turns decoded events into JSON or text lines, each with its timestamp, and hands them in batches
// to the events output's writer thread. The hot path appends preformatted bytes, the time and the
// formatted field values to a fixed buffer: no allocation per message.
#pragma once

#include "config/host_config.hpp"
#include "plugin/plugin_info.hpp"
#include "runtime/output/output_batch.hpp"
#include "runtime/output/output_sink.hpp"
#include "util/output_file.hpp"

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
    /// What comes before the timestamp (JSON: `{"ts":"`; text: nothing); prefix() follows it.
    std::string_view open() const { return open_; }
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
    std::string open_, unknown_, suffix_, fieldsOpen_, fieldsClose_;
    std::vector<FieldKey> fields_;
    size_t maxLine_ = 0;
};

/// One field value as the event line shows it (JSON-typed, or text), written at `out` (room for
/// kMaxFieldValue bytes); returns the bytes written. Unset values are `null` (JSON) or `-` (text).
size_t formatFieldValue(EventFormat format, uint32_t type, const fizzhost_field_value& v, char* out) noexcept;
inline constexpr size_t kMaxFieldValue = 2 + 6 * FIZZHOST_FIELD_TEXT_MAX;  // a fully escaped string, quoted

/// Formats event lines into the output's batches and hands them to its writer thread
/// (runtime/output/output_sink.hpp), which writes them to the events sink. Every line remembers
/// whose it is, so the lines that reach the sink are counted written and the others lost (with the
/// reason), for the writer and for the line's source. The pump thread writes and flushes and never
/// waits for the sink; the counters, writeRecord() and requestReopen() may be used from any thread.
class EventWriter {
public:
    /// `target` is "-" for stdout or a file path, opened by util/output_file's rules (its folder
    /// checked and held, no symlink followed; a missing file created with `mode`; a FIFO nobody
    /// reads yet is no error: its events are counted lost until a reader opens it). Throws Error.
    EventWriter(const std::string& target, EventFormat format, OutputFileMode mode = {}, OutputSettings settings = {});
    /// Writes to an fd the caller owns (tests, benchmarks).
    EventWriter(int fd, EventFormat format, OutputSettings settings = {});
    /// close()s.
    ~EventWriter();

    EventFormat format() const { return format_; }
    /// Pump thread, hot path: appends one event line with its timestamp and fields (`fields` holds
    /// tpl.fieldCount() values, may be null when there are none); hands the batch over by itself
    /// when it is full. `counters` (may be null) learns the line's fate, also after its source is
    /// gone. Never throws, never allocates, never waits for the sink.
    void write(const EventTemplate& tpl, const fizzhost_event& event, const fizzhost_field_value* fields = nullptr,
               const std::shared_ptr<OutputCounters>& counters = {}) noexcept;
    /// Pump thread: `w` is stored once every line written so far is written or counted lost (the
    /// transport frees the messages behind them). False when the batch being filled has no room
    /// for one more word and cannot be handed over now: name it again later. Never blocks.
    bool settleAfter(SettleWord&& w) noexcept;
    /// Pump thread: hands what is buffered to the writer thread (end of a batch), or keeps it for
    /// the next flush while the writer is behind. Never blocks, never throws.
    void flush() noexcept;
    /// Not the pump's thread while it runs: flushes, then waits until every line written so far is
    /// written or counted lost; false when `deadline` came first (tests, benchmarks).
    bool sync(std::chrono::steady_clock::time_point deadline);
    /// Once the pump has stopped: writes what is left, within the write timeout, and ends the
    /// writer thread. Then the counts are final. Never throws.
    void close() noexcept;
    /// Any thread: a control-plane record (one complete line without its newline, a JSON object in
    /// the JSON format) written at the next flush between event lines; not counted as an event.
    /// The caller wakes the flushing thread. Throws only std::bad_alloc.
    void writeRecord(std::string line);
    /// Any thread: the events file is closed and opened again by path before the next write
    /// (SIGUSR1, after logrotate moved it). No effect on stdout or a caller's fd.
    void requestReopen() noexcept { sink_->requestReopen(); }

    /// Events written / lost (in all, and for one reason), and failed write calls. Any thread.
    uint64_t written() const { return sink_->written(); }
    uint64_t lost() const { return sink_->lost(); }
    uint64_t lost(LossReason why) const { return sink_->lost(why); }
    uint64_t writeErrors() const { return sink_->writeErrors(); }
    /// The errno of the last failed write (0: none yet; ETIMEDOUT: the write timeout). Any thread.
    int lastError() const { return sink_->lastError(); }
    /// lastError() in words.
    std::string lastErrorText() const { return outputLossText(lastError(), sink_->writeTimeout()); }
    /// Times the events file was opened again. Any thread.
    uint64_t reopens() const { return sink_->reopens(); }
    /// Where the events go, for messages: the path, or "stdout" / "fd N".
    const std::string& name() const { return sink_->name(); }
    std::chrono::milliseconds writeTimeout() const { return sink_->writeTimeout(); }

    static constexpr std::chrono::seconds kErrorLogInterval = OutputSink::kErrorLogInterval;
    static constexpr std::chrono::seconds kPathCheckInterval = OutputSink::kPathCheckInterval;
    /// "2026-12-07T18:28:48.123456Z": RFC 3339, UTC, microseconds.
    static constexpr size_t kStampBytes = 27;

private:
    /// Moves the records waiting into the batch.
    void takeRecords() noexcept;
    /// Writes the wall clock's time now at `out` (kStampBytes); the date and second are formatted
    /// once per second, the microseconds per line.
    size_t stamp(char* out) noexcept;

    std::shared_ptr<OutputSink> sink_;
    EventFormat format_;
    std::mutex recordsMutex_;
    std::vector<std::string> records_;  // waiting for the next flush
    // Pump thread only.
    int64_t stampSecond_ = -1;
    char stampHead_[32] = {};  // "2026-12-07T18:28:48."
    bool closed_ = false;
};

}  // namespace fizzhost::runtime
