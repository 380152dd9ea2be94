// Turns decoded events into JSON or text lines and writes them to the events sink in batches.
// The hot path appends preformatted bytes and the formatted field values to a fixed buffer: no
// allocation per message.
#pragma once

#include "bpf/unique_fd.hpp"
#include "plugin/plugin_info.hpp"

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

class EventWriter {
public:
    /// `target` is "-" for stdout or a file path (created, appended). Throws Error.
    EventWriter(const std::string& target, EventFormat format);
    /// Writes to an fd the caller owns (tests, benchmarks).
    EventWriter(int fd, EventFormat format);

    EventFormat format() const { return format_; }
    /// Hot path: appends one event line with its fields (`fields` holds tpl.fieldCount() values, may
    /// be null when there are none); flushes by itself when the buffer fills. Never throws.
    void write(const EventTemplate& tpl, const fizzhost_event& event,
               const fizzhost_field_value* fields = nullptr) noexcept;
    /// Writes out what is buffered (end of a batch). Never throws; a failing sink is counted.
    void flush() noexcept;
    uint64_t written() const { return written_; }
    uint64_t writeErrors() const { return writeErrors_; }

private:
    static constexpr size_t kBufferSize = 256 * 1024;

    UniqueFd owned_;
    int fd_;
    EventFormat format_;
    std::vector<char> buffer_;
    size_t used_ = 0;
    uint64_t written_ = 0, writeErrors_ = 0;
};

}  // namespace fizzhost::runtime
