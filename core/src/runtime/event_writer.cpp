#include "runtime/event_writer.hpp"

#include "runtime/frames.hpp"
#include "util/error.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace fizzhost::runtime {
namespace {

std::string jsonEscape(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

EventTemplate::EventTemplate(EventFormat format, const EventOrigin& o, const std::vector<std::string>& kinds) {
    auto make = [&](std::string_view kind) {
        if (format == EventFormat::Json)
            return "{\"iface\":\"" + jsonEscape(o.iface) + "\",\"plugin\":\"" + jsonEscape(o.plugin) +
                   "\",\"version\":\"" + jsonEscape(o.version) + "\",\"variant\":\"" + o.variant + "\",\"kind\":\"" +
                   jsonEscape(kind) + "\",\"src\":\"";
        return o.iface + " " + o.plugin + " " + o.version + " " + o.variant + " " + std::string(kind) + " ";
    };
    for (const auto& k : kinds) prefixes_.push_back(make(k));
    unknown_ = make("unknown");
    suffix_ = format == EventFormat::Json ? "\"}\n" : "\n";
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

void EventWriter::write(const EventTemplate& tpl, const fizzhost_event& event) noexcept {
    if (used_ + kMaxLine > buffer_.size()) flush();
    std::string_view prefix = tpl.prefix(event.kind), suffix = tpl.suffix();
    if (prefix.size() + suffix.size() + 16 > kMaxLine) return;  // origin names are bounded; never happens
    char* p = buffer_.data() + used_;
    std::memcpy(p, prefix.data(), prefix.size());
    p += prefix.size();
    p += formatAddress(event.src_addr, p);
    std::memcpy(p, suffix.data(), suffix.size());
    p += suffix.size();
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
