#include "runtime/pinned/pin_name.hpp"

#include <algorithm>
#include <cctype>

namespace fizzhost::runtime {

std::optional<std::string> pinNameProblem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name == "." || name == "..") return "is '" + std::string(name) + "', a folder, not a pin";
    if (name.find('/') != std::string_view::npos) return "contains '/': a path, not a pin name";
    if (name.size() > kMaxPinName)
        return "is " + std::to_string(name.size()) + " bytes; a pin name has at most " + std::to_string(kMaxPinName);
    const bool plain = std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
    if (!plain) return "holds characters a pin name never has (only letters, digits, '-' and '_')";
    return std::nullopt;
}

}  // namespace fizzhost::runtime
