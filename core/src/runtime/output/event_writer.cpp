#include "runtime/output/event_writer.hpp"

#include "util/address.hpp"
#include "util/error.hpp"

#include <time.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

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
            return "\",\"iface\":" + jsonString(o.iface) + ",\"plugin\":" + jsonString(o.plugin) +
                   ",\"version\":" + jsonString(o.version) + ",\"variant\":" + jsonString(o.variant) +
                   ",\"kind\":" + jsonString(kind) + ",\"src\":\"";
        return " " + o.iface + " " + o.plugin + " " + o.version + " " + o.variant + " " + std::string(kind) + " ";
    };
    for (const auto& k : kinds) prefixes_.push_back(make(k));
    unknown_ = make("unknown");
    if (format == EventFormat::Json) {
        open_ = "{\"ts\":\"";
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
    maxLine_ = open_.size() + EventWriter::kStampBytes + longestPrefix + 16 /* address */ + fieldsOpen_.size() + widest + fieldsClose_.size() + suffix_.size();
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

EventWriter::EventWriter(const std::string& target, EventFormat format, OutputFileMode mode, OutputSettings settings)
    : sink_(OutputSink::open(target, std::move(mode), settings)), format_(format) {}

EventWriter::EventWriter(int fd, EventFormat format, OutputSettings settings)
    : sink_(OutputSink::adopt(fd, settings)), format_(format) {}

EventWriter::~EventWriter() { close(); }

size_t EventWriter::stamp(char* out) noexcept {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);  // vDSO: no system call
    if (now.tv_sec != stampSecond_) {
        std::tm t{};
        const time_t sec = now.tv_sec;
        ::gmtime_r(&sec, &t);
        std::snprintf(stampHead_, sizeof stampHead_, "%04d-%02d-%02dT%02d:%02d:%02d.", (t.tm_year + 1900) % 10000,
                      t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec);
        stampSecond_ = now.tv_sec;
    }
    std::memcpy(out, stampHead_, 20);
    uint32_t us = uint32_t(now.tv_nsec / 1000);
    for (int i = 25; i >= 20; --i, us /= 10) out[i] = char('0' + us % 10);
    out[26] = 'Z';
    return kStampBytes;
}

void EventWriter::write(const EventTemplate& tpl, const fizzhost_event& event, const fizzhost_field_value* fields,
                        const std::shared_ptr<OutputCounters>& counters) noexcept {
    // maxLine() is bounded by the template (at most FIZZHOST_MAX_FIELDS fields of bounded width), far
    // below a batch: after a hand-over every line fits.
    OutputBatch* b = &sink_->fill();
    if (!b->fits(tpl.maxLine())) {
        sink_->handOff(true);
        b = &sink_->fill();
    }
    char* p = b->data.data() + b->used;
    p += put(p, tpl.open());
    p += stamp(p);
    p += put(p, tpl.prefix(event.kind));
    p += formatAddress(event.src_addr, p);
    if (tpl.fieldCount() != 0 && fields != nullptr) {
        p += tpl.formatFields(fields, p);
    } else if (tpl.format() == EventFormat::Json) {
        *p++ = '"';
    }
    p += put(p, tpl.suffix());
    b->used = size_t(p - b->data.data());
    b->lines[b->lineCount++] = OutputBatch::Line{b->ownerOf(counters), b->used};
}

bool EventWriter::settleAfter(SettleWord&& w) noexcept {
    if (sink_->fill().mark(std::move(w))) return true;
    return sink_->handOff(false) && sink_->fill().mark(std::move(w));
}

void EventWriter::flush() noexcept {
    takeRecords();
    sink_->handOff(false);
}

bool EventWriter::sync(std::chrono::steady_clock::time_point deadline) {
    takeRecords();
    while (!sink_->handOff(false)) {
        sink_->waitIdle(deadline);
        if (std::chrono::steady_clock::now() >= deadline) return false;
    }
    return sink_->waitIdle(deadline);
}

void EventWriter::close() noexcept {
    if (closed_) return;
    closed_ = true;
    takeRecords();
    // The write timeout bounds every batch from its hand-over; one more for what is handed now.
    sink_->close(std::chrono::steady_clock::now() + sink_->writeTimeout());
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
        const size_t n = std::min(r.size(), OutputSink::kBatchBytes);  // a record is a few hundred bytes
        OutputBatch* b = &sink_->fill();
        if (!b->fits(n)) {
            sink_->handOff(true);
            b = &sink_->fill();
        }
        std::memcpy(b->data.data() + b->used, r.data(), n);
        b->used += n;
        b->lines[b->lineCount++] = OutputBatch::Line{OutputBatch::kRecord, b->used};
    }
}

}  // namespace fizzhost::runtime
