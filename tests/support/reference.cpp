#include "support/reference.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace fizzhost::test {
namespace {

std::optional<std::string> fizzbuzz(uint32_t src) {
    if (src % 15 == 0) return "FizzBuzz";
    if (src % 3 == 0) return "Fizz";
    if (src % 5 == 0) return "Buzz";
    return std::nullopt;
}

// Every Fibonacci number that fits in an octet.
constexpr std::array<uint32_t, 13> kFibonacci = {0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233};

// The seed article's loop, in the 8-bit arithmetic the BPF version uses. Wrap-around makes it
// wrong in both directions: 0 is never found (the walk starts at b = 1), and 241, 245, 247 and
// 253 are "found" when a wrapped sum lands on them. The loop does end for every octet, but 254
// and 255 need 381 steps; the BPF loop is bounded to 255 (the verifier needs a bound), which stops
// 255 short of the wrapped 255 it would reach. The same bound here keeps the two in agreement.
constexpr int kNaiveLoopBound = 255;

bool naiveIsFibonacci(uint8_t n) {
    uint8_t a = 0, b = 1;
    for (int i = 0; i < kNaiveLoopBound && b < n; ++i) {
        const uint8_t t = uint8_t(a + b);
        a = b;
        b = t;
    }
    return b == n;
}

}  // namespace

std::optional<std::string> referenceKind(std::string_view plugin, uint32_t src) {
    if (plugin == "fizz") return src % 3 == 0 ? std::optional<std::string>("Fizz") : std::nullopt;
    if (plugin == "fizzbuzz") return fizzbuzz(src);
    if (plugin == "fibonacci") {
        if (std::find(kFibonacci.begin(), kFibonacci.end(), src & 0xff) != kFibonacci.end()) return "Fibonacci";
        return fizzbuzz(src);
    }
    if (plugin == "fibonacci-naive") {
        if (naiveIsFibonacci(uint8_t(src & 0xff))) return "Fibonacci";
        return fizzbuzz(src);
    }
    throw std::invalid_argument("no reference for plugin '" + std::string(plugin) + "'");
}

}  // namespace fizzhost::test
