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

// The seed article's loop, in the 8-bit arithmetic the BPF version uses, unbounded as the seed
// wrote it. Wrap-around makes it wrong in both directions: 0 is never found (the walk starts at
// b = 1), and 241, 245, 247, 253 and 255 are "found" when a wrapped sum lands on them. It ends for
// every octet: 254 and 255 take the longest, 381 steps (kNaiveLongestWalk).
constexpr int kNaiveLongestWalk = 381;

bool naiveIsFibonacci(uint8_t n) {
    uint8_t a = 0, b = 1;
    int steps = 0;
    while (b < n) {
        const uint8_t t = uint8_t(a + b);
        a = b;
        b = t;
        if (++steps > kNaiveLongestWalk) throw std::logic_error("the naive walk did not end within 381 steps");
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

namespace {

// MurmurHash3's fmix32 (Austin Appleby, MurmurHash3.cpp): xor-shift by 16, multiply by 0x85ebca6b,
// xor-shift by 13, multiply by 0xc2b2ae35, xor-shift by 16; all mod 2^32.
uint32_t murmur3Finaliser(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

}  // namespace

bool referenceToCandidate(uint32_t src, unsigned percent) {
    if (percent > 100) throw std::invalid_argument("a split of " + std::to_string(percent) + "%");
    const uint64_t hashes = uint64_t(1) << 32;  // the finaliser's range
    return murmur3Finaliser(src) < hashes * percent / 100;
}

}  // namespace fizzhost::test
