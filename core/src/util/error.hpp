// The one error type control-plane code throws: what failed, where, and the errno behind it.
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fizzhost {

/// Control-plane failure. `code` is a positive errno value (0 when none applies); what() is the
/// complete human-readable message, e.g. "plugin 'fizz' (/p/fizz.so): load program 'fizz_xdp':
/// Permission denied (EACCES)".
class Error : public std::runtime_error {
public:
    explicit Error(std::string message, int code = 0)
        : std::runtime_error(std::move(message)), code_(code) {}
    int code() const noexcept { return code_; }

private:
    int code_;
};

/// "Permission denied (EACCES)" for a positive or negative errno value.
std::string errnoText(int err);

/// Throws Error("<what>: <errnoText(err)>", err); err may be negative (libbpf style).
[[noreturn]] void throwErrno(const std::string& what, int err);

}  // namespace fizzhost
