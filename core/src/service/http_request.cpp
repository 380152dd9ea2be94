#include "service/http_request.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <vector>

namespace fizzhost::service {
namespace {

bool isTokenChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool isToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isTokenChar); }

bool equalsNoCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// "close, Upgrade": whether the comma-separated list holds `token` (case-insensitive).
bool listHas(std::string_view list, std::string_view token) {
    while (!list.empty()) {
        const size_t comma = list.find(',');
        if (equalsNoCase(trim(list.substr(0, comma)), token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

HeadParse bad(std::string problem) {
    HeadParse out;
    out.status = HeadStatus::Bad;
    out.problem = std::move(problem);
    return out;
}

// origin-form ("/metrics?x") or absolute-form ("http://host:9464/metrics"), without query or fragment.
std::optional<std::string> pathOf(std::string_view target) {
    if (target.rfind("http://", 0) == 0 || target.rfind("https://", 0) == 0) {
        const size_t authority = target.find("//") + 2;
        const size_t slash = target.find_first_of("/?#", authority);
        target = slash == std::string_view::npos || target[slash] != '/' ? std::string_view("/") : target.substr(slash);
    }
    if (target.empty() || target.front() != '/') return std::nullopt;
    return std::string(target.substr(0, target.find_first_of("?#")));
}

int base64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::optional<std::string> base64Decode(std::string_view in) {
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        const int v = base64Value(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | uint32_t(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += char((acc >> bits) & 0xff);
        }
    }
    return out;
}

}  // namespace

HeadParse parseRequestHead(std::string_view in, size_t maxHead) {
    size_t pos = 0;
    while (pos < in.size() && (in[pos] == '\r' || in[pos] == '\n')) ++pos;  // stray line ends before it
    std::vector<std::string_view> lines;
    size_t end = std::string_view::npos;
    while (pos < in.size()) {
        const size_t nl = in.find('\n', pos);
        if (nl == std::string_view::npos || nl + 1 > maxHead) break;
        std::string_view line = in.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        pos = nl + 1;
        if (line.empty()) {
            end = pos;
            break;
        }
        lines.push_back(line);
    }
    if (end == std::string_view::npos) {
        HeadParse out;
        out.status = in.size() >= maxHead ? HeadStatus::TooLarge : HeadStatus::Incomplete;
        return out;
    }

    // request-line = method SP request-target SP HTTP-version
    const std::string_view first = lines.front();
    const size_t sp1 = first.find(' '), sp2 = first.find(' ', sp1 == std::string_view::npos ? sp1 : sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos || first.find(' ', sp2 + 1) != std::string_view::npos)
        return bad("the request line is not METHOD TARGET HTTP/1.x");
    HeadParse out;
    HttpRequest& r = out.request;
    const std::string_view method = first.substr(0, sp1), target = first.substr(sp1 + 1, sp2 - sp1 - 1),
                           version = first.substr(sp2 + 1);
    if (!isToken(method)) return bad("the method is not a token");
    if (version == "HTTP/1.1") r.minor = 1;
    else if (version == "HTTP/1.0") r.minor = 0;
    else return bad("not HTTP/1.0 or HTTP/1.1");
    for (char c : target)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad("a control character in the target");
    auto path = pathOf(target);
    if (!path) return bad("the target is not a path");
    r.method = std::string(method);
    r.path = std::move(*path);

    bool close = false, keepAlive = false;
    for (size_t i = 1; i < lines.size(); ++i) {
        const std::string_view line = lines[i];
        if (line.front() == ' ' || line.front() == '\t') return bad("a folded header line (obsolete line folding)");
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || !isToken(line.substr(0, colon)))
            return bad("a header line that is not NAME: VALUE");
        const std::string_view name = line.substr(0, colon), value = trim(line.substr(colon + 1));
        for (char c : value)
            if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return bad("a control character in a header");
        if (equalsNoCase(name, "connection")) {
            close = close || listHas(value, "close");
            keepAlive = keepAlive || listHas(value, "keep-alive");
        } else if (equalsNoCase(name, "content-length")) {
            if (value.empty() || value.find_first_not_of("0123456789") != std::string_view::npos)
                return bad("Content-Length is not a number");
            r.hasBody = r.hasBody || value.find_first_not_of('0') != std::string_view::npos;
        } else if (equalsNoCase(name, "transfer-encoding")) {
            r.hasBody = true;
        } else if (equalsNoCase(name, "authorization")) {
            if (r.authorization) return bad("two Authorization headers");
            r.authorization = std::string(value);
        }
    }
    r.keepAlive = !close && (r.minor == 1 || keepAlive) && !r.hasBody;
    out.status = HeadStatus::Complete;
    out.consumed = end;
    return out;
}

std::string_view reasonPhrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

std::string httpResponse(int status, std::string_view contentType, std::string_view body, bool keepAlive,
                         bool headOnly, std::string_view headers) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(reasonPhrase(status)) + "\r\n";
    if (!contentType.empty()) out += "Content-Type: " + std::string(contentType) + "\r\n";
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    out += keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
    out += headers;
    out += "\r\n";
    if (!headOnly) out += body;
    return out;
}

std::optional<std::pair<std::string, std::string>> basicCredentials(std::string_view authorization) {
    const size_t sp = authorization.find(' ');
    if (sp == std::string_view::npos || !equalsNoCase(authorization.substr(0, sp), "basic")) return std::nullopt;
    auto decoded = base64Decode(trim(authorization.substr(sp + 1)));
    if (!decoded) return std::nullopt;
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos) return std::nullopt;
    return std::pair{decoded->substr(0, colon), decoded->substr(colon + 1)};
}

}  // namespace fizzhost::service
