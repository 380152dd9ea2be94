#include "runtime/output/event_writer.hpp"

#include "util/address.hpp"
#include "util/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace fizzhost::runtime {
namespace {

// A JSON string literal, quotes included, escaped by nlohmann_json (template parts only).
std::string jsonString(std::string_view s) { return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

size_t put(char* out, std::string_view s) noexcept {
    std::memcpy(out, s.data(), s.size());
    return s.size();
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when the byte starts none.
size_t utf8Sequence(const unsigned char* s, size_t n, size_t i) noexcept {
    const unsigned char c = s[i];
    size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
    if (len == 0 || i + len > n) return 0;
    for (size_t k = 1; k < len; ++k)
        if ((s[i + k] & 0xc0) != 0x80) return 0;
    return len;
}

// A string field as a quoted JSON string, escaped here without allocating: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced by U+FFFD. At most kMaxFieldValue bytes.
size_t quoted(const char* text, uint32_t length, char* out) noexcept {
    const auto* s = reinterpret_cast<const unsigned char*>(text);
    const size_t n = std::min<size_t>(length, FIZZHOST_FIELD_TEXT_MAX);
    char* p = out;
    *p++ = '"';
    for (size_t i = 0; i < n;) {
        const unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = char(c);
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            static constexpr char kHex[] = "0123456789abcdef";
            p += put(p, "\\u00");
            *p++ = kHex[c >> 4];
            *p++ = kHex[c & 15];
            ++i;
        } else if (c < 0x80) {
            *p++ = char(c);
            ++i;
        } else if (size_t len = utf8Sequence(s, n, i)) {
            std::memcpy(p, s + i, len);
            p += len;
            i += len;
        } else {
            p += put(p, "\\ufffd");
            ++i;
        }
    }
    *p++ = '"';
    return size_t(p - out);
}

template <typename T>
size_t number(T v, char* out) noexcept {
    auto r = std::to_chars(out, out + 32, v);
    return size_t(r.ptr - out);
}

}  // namespace

size_t formatFieldValue(EventFormat format, uint32_t type, const fizzhost_field_value& v, char* out) noexcept {
    const bool json = format == EventFormat::Json;
    if (!v.set) return put(out, json ? "null" : "-");
    switch (type) {
    case FIZZHOST_FIELD_U64: return number(v.bits, out);
    case FIZZHOST_FIELD_I64: return number(static_cast<int64_t>(v.bits), out);
    case FIZZHOST_FIELD_BOOL: return put(out, v.bits ? "true" : "false");
    case FIZZHOST_FIELD_IPV4: {
        size_t n = 0;
        if (json) out[n++] = '"';
        n += formatAddress(static_cast<uint32_t>(v.bits), out + n);
        if (json) out[n++] = '"';
        return n;
    }
    case FIZZHOST_FIELD_DOUBLE: {
        double d;
        std::memcpy(&d, &v.bits, sizeof d);
        if (!std::isfinite(d)) return put(out, json ? "null" : (std::isnan(d) ? "nan" : d > 0 ? "inf" : "-inf"));
        return number(d, out);
    }
    case FIZZHOST_FIELD_STRING: return quoted(v.text, v.length, out);
    default: return put(out, json ? "null" : "-");
    }
}

EventTemplate::EventTemplate(EventFormat format, const EventOrigin& o, const std::vector<std::string>& kinds,
                             const std::vector<plugin::FieldSpec>& fields)
    : format_(format) {
    auto make = [&](std::string_view kind) {
        if (format == EventFormat::Json)
            return "{\"iface\":" + jsonString(o.iface) + ",\"plugin\":" + jsonString(o.plugin) +
                   ",\"version\":" + jsonString(o.version) + ",\"variant\":" + jsonString(o.variant) +
                   ",\"kind\":" + jsonString(kind) + ",\"src\":\"";
        return o.iface + " " + o.plugin + " " + o.version + " " + o.variant + " " + std::string(kind) + " ";
    };
    for (const auto& k : kinds) prefixes_.push_back(make(k));
    unknown_ = make("unknown");
    if (format == EventFormat::Json) {
        fieldsOpen_ = fields.empty() ? "\"" : "\",\"fields\":{";
        fieldsClose_ = fields.empty() ? "" : "}";
        suffix_ = "}\n";
    } else {
        suffix_ = "\n";
    }
    size_t widest = 0;
    for (size_t i = 0; i < fields.size(); ++i) {
        FieldKey k;
        k.type = fields[i].type;
        k.key = format == EventFormat::Json ? (i ? "," : "") + jsonString(fields[i].name) + ":" : " " + fields[i].name + "=";
        widest += k.key.size() + kMaxFieldValue;
        fields_.push_back(std::move(k));
    }
    size_t longestPrefix = unknown_.size();
    for (const auto& p : prefixes_) longestPrefix = std::max(longestPrefix, p.size());
    maxLine_ = longestPrefix + 16 /* address */ + fieldsOpen_.size() + widest + fieldsClose_.size() + suffix_.size();
}

size_t EventTemplate::formatFields(const fizzhost_field_value* values, char* out) const noexcept {
    char* p = out;
    p += put(p, fieldsOpen_);
    for (size_t i = 0; i < fields_.size(); ++i) {
        p += put(p, fields_[i].key);
        p += formatFieldValue(format_, fields_[i].type, values[i], p);
    }
    p += put(p, fieldsClose_);
    return size_t(p - out);
}

EventWriter::EventWriter(const std::string& target, EventFormat format, OutputFileMode mode)
    : fd_(-1), format_(format), buffer_(kBufferSize), lines_(std::make_unique<Line[]>(kMaxLines)) {
    if (target == "-") {
        fd_ = STDOUT_FILENO;
        name_ = "stdout";
        return;
    }
    name_ = "'" + target + "'";
    file_ = std::make_unique<OutputFile>(target, std::move(mode));
    OutputOpen opened = file_->open();
    if (opened.fd) {
        take(std::move(opened));
        return;
    }
    if (opened.kind != OutputKind::Fifo || opened.err != ENXIO) throw Error(opened.reason, opened.err);
    // A FIFO whose reader starts later: the host starts anyway.
    kind_ = OutputKind::Fifo;
    closeSink(ENXIO, nullptr, opened.reason);
}

EventWriter::EventWriter(int fd, EventFormat format)
    : name_("fd " + std::to_string(fd)), fd_(fd), format_(format), buffer_(kBufferSize),
      lines_(std::make_unique<Line[]>(kMaxLines)) {}

void EventWriter::write(const EventTemplate& tpl, const fizzhost_event& event, const fizzhost_field_value* fields,
                        OutputCounters* counters) noexcept {
    // maxLine() is bounded by the template (at most FIZZHOST_MAX_FIELDS fields of bounded width), far
    // below the buffer: after a flush every line fits.
    if (used_ + tpl.maxLine() > buffer_.size() || lineCount_ == kMaxLines) flush();
    char* p = buffer_.data() + used_;
    p += put(p, tpl.prefix(event.kind));
    p += formatAddress(event.src_addr, p);
    if (tpl.fieldCount() != 0 && fields != nullptr) {
        p += tpl.formatFields(fields, p);
    } else if (tpl.format() == EventFormat::Json) {
        *p++ = '"';
    }
    p += put(p, tpl.suffix());
    used_ = size_t(p - buffer_.data());
    lines_[lineCount_++] = Line{counters, used_};
}

void EventWriter::flush() noexcept {
    if (file_) {
        if (reopenRequested_.exchange(false, std::memory_order_relaxed))
            reopen("on request (SIGUSR1)");
        else
            checkPath();
    }
    takeRecords();
    writeOut();
}

void EventWriter::writeRecord(std::string line) {
    line += '\n';
    std::lock_guard lock(recordsMutex_);
    records_.push_back(std::move(line));
}

void EventWriter::takeRecords() noexcept {
    std::vector<std::string> records;
    {
        std::lock_guard lock(recordsMutex_);
        if (records_.empty()) return;
        records.swap(records_);
    }
    for (const auto& r : records) {
        if (used_ + r.size() > buffer_.size() || lineCount_ == kMaxLines) writeOut();
        const size_t n = std::min(r.size(), buffer_.size());  // a record is a few hundred bytes
        std::memcpy(buffer_.data() + used_, r.data(), n);
        used_ += n;
        lines_[lineCount_++] = Line{nullptr, used_, true};
    }
}

void EventWriter::writeOut() noexcept {
    if (used_ == 0) return;
    if (fd_ < 0) {  // no sink now (see closeSink): every line is lost, counted
        settle(0, sinkError_);
        used_ = 0;
        lineCount_ = 0;
        return;
    }
    // A line cut short by an earlier failure would glue itself to the next one: end it first.
    if (brokenLine_ && ::write(fd_, "\n", 1) == 1) brokenLine_ = false;
    size_t off = 0;
    int err = 0;
    while (off < used_) {
        ssize_t n = ::write(fd_, buffer_.data() + off, used_ - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            err = n < 0 ? errno : EIO;  // 0 for a non-empty write: the sink takes nothing more
            break;
        }
        off += size_t(n);
    }
    settle(off, err);
    used_ = 0;
    lineCount_ = 0;
    if (err == EPIPE && kind_ == OutputKind::Fifo && file_)
        closeSink(EPIPE, nullptr, "the FIFO's reader went away (EPIPE)");
}

void EventWriter::settle(size_t done, int err) noexcept {
    uint64_t ok = 0, bad = 0;
    // One atomic add per run of lines of the same source and fate, not one per line.
    OutputCounters* runOwner = nullptr;
    bool runWritten = false;
    uint64_t run = 0;
    auto closeRun = [&] {
        if (runOwner && run) (runWritten ? runOwner->written : runOwner->lost).fetch_add(run, std::memory_order_relaxed);
        run = 0;
    };
    for (size_t i = 0; i < lineCount_; ++i) {
        const Line& line = lines_[i];
        if (line.record) continue;  // not an event: neither written nor lost in the event counts
        const bool w = line.end <= done;
        w ? ++ok : ++bad;
        if (line.counters != runOwner || w != runWritten) {
            closeRun();
            runOwner = line.counters;
            runWritten = w;
        }
        ++run;
    }
    closeRun();
    if (done != 0 && done < used_ && buffer_[done - 1] != '\n') brokenLine_ = true;
    if (ok) written_.fetch_add(ok, std::memory_order_relaxed);
    if (bad) lost_.fetch_add(bad, std::memory_order_relaxed);
    if (err != 0) {
        writeErrors_.fetch_add(1, std::memory_order_relaxed);
        lastError_.store(err, std::memory_order_relaxed);
        logWriteError(err, bad);
    } else if (lostSinceLog_ != 0 || nextErrorLog_ != std::chrono::steady_clock::time_point{}) {
        try {
            spdlog::info("events output {}: writing again; {} event(s) lost in all", name_, lost());
        } catch (...) {
        }
        lostSinceLog_ = 0;
        nextErrorLog_ = {};
    }
}

void EventWriter::logWriteError(int err, uint64_t lostNow) noexcept {
    lostSinceLog_ += lostNow;
    const auto now = std::chrono::steady_clock::now();
    if (now < nextErrorLog_) return;
    nextErrorLog_ = now + kErrorLogInterval;
    try {
        spdlog::error("events output {}: {}: {}; {} event(s) lost since the last report, {} lost and {} "
                      "written in all; classification goes on (failures are reported at most every {} s)",
                      name_, fd_ < 0 ? "not open" : "write failed", fd_ < 0 ? sinkReason_ : errnoText(err),
                      lostSinceLog_, lost(), written(), kErrorLogInterval.count());
    } catch (...) {
    }
    lostSinceLog_ = 0;
}

// logrotate without copytruncate renames the file (and may create a new one at the path): the fd
// we hold then writes into the old file forever. Noticed by comparing the file behind the fd with
// the one at the name in the held folder (no symlink followed), at most once per
// kPathCheckInterval; a sink that is not open (a FIFO nobody reads, a refused file) is tried again
// as often.
void EventWriter::checkPath() noexcept {
    const auto now = std::chrono::steady_clock::now();
    if (now < nextPathCheck_) return;
    nextPathCheck_ = now + kPathCheckInterval;
    if (fd_ < 0) return reopen(nullptr);
    struct stat held {};
    if (::fstat(fd_, &held) != 0) return;
    if (held.st_nlink == 0) return reopen("it was deleted");
    switch (file_->compare(held)) {
    case OutputFile::Name::Gone: return reopen("it was renamed or deleted");
    case OutputFile::Name::Other: return reopen("another file took its name");
    case OutputFile::Name::Same: return;
    }
}

void EventWriter::reopen(const char* why) noexcept {
    try {
        OutputOpen opened = file_->open();
        if (opened.fd) {
            const bool wasClosed = fd_ < 0;
            take(std::move(opened));
            reopens_.fetch_add(1, std::memory_order_relaxed);
            if (why) spdlog::info("events file {} reopened ({})", name_, why);
            else if (wasClosed)
                spdlog::info("events output {}: open again{}", name_,
                             kind_ == OutputKind::Fifo ? ": a reader has the FIFO" : "");
            return;
        }
        // A file we may not write to (a symlink, another user's file, ...) or no FIFO reader: the
        // file held before is not the events file any more, so nothing more goes there.
        if (opened.refused || fd_ < 0 || kind_ == OutputKind::Fifo) return closeSink(opened.err, why, opened.reason);
        // Keep writing to the file we have; the next check tries again.
        spdlog::error("events file {}: reopen {}: {}; still writing to the file opened before", name_, why ? why : "",
                      opened.reason);
    } catch (...) {
    }
}

void EventWriter::take(OutputOpen&& opened) noexcept {
    kind_ = opened.kind;
    owned_ = std::move(opened.fd);
    fd_ = owned_.get();
    brokenLine_ = false;
    sinkError_ = 0;
    sinkReason_.clear();
    try {
        if (opened.created) spdlog::info("events file {} created (mode {})", name_, octalMode(opened.st.st_mode));
        if (!opened.note.empty()) spdlog::warn("{}", opened.note);
    } catch (...) {
    }
}

// No sink until a later open succeeds: events are counted lost meanwhile (writeOut), and the
// reason is logged once for as long as it stays the same.
void EventWriter::closeSink(int err, const char* why, const std::string& reason) noexcept {
    const bool news = fd_ >= 0 || reason != sinkReason_;
    owned_.reset();
    fd_ = -1;
    sinkError_ = err;
    try {
        if (!news) return;
        sinkReason_ = reason;
        spdlog::error("events output {}: {}{}; its events are counted lost until it can be written again (tried "
                      "every {} s)",
                      name_, why ? std::string("not reopened (") + why + "): " : std::string(), reason,
                      kPathCheckInterval.count());
    } catch (...) {
    }
}

}  // namespace fizzhost::runtime
