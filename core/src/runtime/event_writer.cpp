#include "runtime/event_writer.hpp"

#include "runtime/frames.hpp"
#include "util/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

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

EventWriter::EventWriter(const std::string& target, EventFormat format) : format_(format), buffer_(kBufferSize) {
    if (target == "-") {
        fd_ = STDOUT_FILENO;
        return;
    }
    owned_.reset(::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    if (!owned_) throwErrno("events file '" + target + "': open for append", errno);
    fd_ = owned_.get();
}

EventWriter::EventWriter(int fd, EventFormat format) : fd_(fd), format_(format), buffer_(kBufferSize) {}

void EventWriter::write(const EventTemplate& tpl, const fizzhost_event& event,
                        const fizzhost_field_value* fields) noexcept {
    // maxLine() is bounded by the template (at most FIZZHOST_MAX_FIELDS fields of bounded width), far
    // below the buffer: after a flush every line fits.
    if (used_ + tpl.maxLine() > buffer_.size()) flush();
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
    ++written_;
}

void EventWriter::flush() noexcept {
    size_t off = 0;
    while (off < used_) {
        ssize_t n = ::write(fd_, buffer_.data() + off, used_ - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            ++writeErrors_;
            break;
        }
        off += size_t(n);
    }
    used_ = 0;
}

}  // namespace fizzhost::runtime
