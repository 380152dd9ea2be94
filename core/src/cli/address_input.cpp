#include "cli/address_input.hpp"

#include "util/address.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace fizzhost::cli {

std::vector<uint32_t> parseAddresses(const std::vector<std::string>& args) {
    std::vector<uint32_t> out;
    for (const auto& a : args) {
        auto v = parseAddress(a);
        if (!v) throw Error("'" + printable(a) + "' is not an IPv4 address (dotted quad, or a 32-bit number)", EINVAL);
        out.push_back(*v);
    }
    return out;
}

std::optional<std::string> forEachAddressLine(std::istream& in, const std::function<void(uint32_t)>& fn) {
    std::string line;
    size_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        auto last = line.find_last_not_of(" \t\r");
        const std::string text = line.substr(first, last - first + 1);
        auto v = parseAddress(text);
        if (!v) return "stdin line " + std::to_string(lineNo) + ": '" + printable(text) + "' is not an IPv4 address";
        fn(*v);
    }
    return std::nullopt;
}

}  // namespace fizzhost::cli
