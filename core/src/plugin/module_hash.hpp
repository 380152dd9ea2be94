// SHA-256 of a byte range, as lowercase hex: how the pinned state names the exact module file a
// program came from, so a successor can tell "same build" from "same version, other bytes".
#pragma once

#include <span>
#include <string>

namespace fizzhost::plugin {

/// 64 lowercase hex digits. Throws Error when the digest cannot be computed (libcrypto failure).
std::string sha256Hex(std::span<const unsigned char> bytes);

}  // namespace fizzhost::plugin
