// What a pin name in the pinned record may be. The record is read back from bpffs by a new host
// running as root, and it names the map pins that host opens: whoever could write the record (or
// a bug that wrote a wrong one) must not lead that open outside the interface's folder. So a
// name is a plain file name of the charset the host itself writes ("baseline-1001-regions"),
// checked when the record is parsed, before anything is opened.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fizzhost::runtime {

/// The longest pin name the host writes is "dispatcher-4294967295-variants" (30 bytes).
inline constexpr size_t kMaxPinName = 64;

/// Why `name` is not a pin name of an interface's folder ("contains '/'", "is '..'", ...), or
/// nullopt when it is: 1..kMaxPinName bytes of letters, digits, '-' and '_' (no '/', no '.', so
/// neither "." nor ".." nor a path; bpffs refuses names with a dot anyway).
std::optional<std::string> pinNameProblem(std::string_view name);

}  // namespace fizzhost::runtime
