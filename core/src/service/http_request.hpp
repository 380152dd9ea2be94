// One HTTP/1.x request head, parsed from the bytes a connection received so far (RFC 9112), and
// the responses the /metrics server writes. Pure functions: no socket, no allocation beyond the
// request's few strings, so a garbage or huge head is judged here, tested without a server.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fizzhost::service {

/// The largest request head taken (request line and headers): larger is answered 431.
inline constexpr size_t kMaxRequestHead = 8 * 1024;

struct HttpRequest {
    std::string method;  // "GET", "HEAD", ... (case-sensitive, as the RFC says)
    std::string path;    // the target without its query: "/metrics"
    int minor = 1;       // HTTP/1.<minor>
    bool keepAlive = true;      // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "keep-alive"
    bool hasBody = false;       // Content-Length > 0 or Transfer-Encoding: never read, so the connection closes
    std::optional<std::string> authorization;  // the Authorization header's value
};

enum class HeadStatus {
    Incomplete,  // no end of head yet, and still within kMaxRequestHead
    Complete,    // `request` holds it; `consumed` bytes belong to it
    Bad,         // not an HTTP/1.x request head (400); `problem` says why
    TooLarge,    // more than kMaxRequestHead without its end (431)
};

struct HeadParse {
    HeadStatus status = HeadStatus::Incomplete;
    size_t consumed = 0;
    HttpRequest request;
    std::string problem;
};

/// Parses the request head at the start of `received`. A lone LF ends a line as CRLF does (RFC
/// 9112 section 2.2); empty lines before the request line are skipped. Never throws but bad_alloc.
HeadParse parseRequestHead(std::string_view received, size_t maxHead = kMaxRequestHead);

/// A complete response: status line, Content-Length, Connection and `headers` (each ending in
/// CRLF), then `body` unless `headOnly`.
std::string httpResponse(int status, std::string_view contentType, std::string_view body, bool keepAlive,
                         bool headOnly = false, std::string_view headers = {});

/// "Not Found" for 404, and so on for the statuses the server uses.
std::string_view reasonPhrase(int status);

/// The user and password of "Basic <base64(user:password)>", or nullopt when `authorization` is not
/// that (another scheme, bad base64, no colon).
std::optional<std::pair<std::string, std::string>> basicCredentials(std::string_view authorization);

}  // namespace fizzhost::service
