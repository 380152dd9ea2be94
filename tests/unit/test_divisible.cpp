// The SDK's division-free divisibility test (fizz/divisible.h) against the % operator. The header is
// plain C shared with the classifiers, so the host compiler checks the same code the plugins run.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

#include <fizz/divisible.h>

TEST_CASE("fizz_odd_inverse is the inverse modulo 2^32 of every odd divisor", "[unit]") {
    for (uint32_t d = 1; d < (1u << 20); d += 2) {
        REQUIRE(static_cast<uint32_t>(d * fizz_odd_inverse(d)) == 1u);
    }
    REQUIRE(static_cast<uint32_t>(0xffffffffu * fizz_odd_inverse(0xffffffffu)) == 1u);
}

TEST_CASE("fizz_divisible_odd agrees with % on the classifiers' divisors", "[unit]") {
    std::mt19937 rng(20261125);
    for (uint32_t d : {1u, 3u, 5u, 7u, 15u, 255u, 65537u, 0xfffffffbu}) {
        INFO("d = " << d);
        // Every value near the ends and around multiples, then random 32-bit values.
        for (uint32_t x = 0; x < 100000; ++x) REQUIRE(fizz_divisible_odd(x, d) == (x % d == 0));
        for (uint32_t x = 0xffffffffu - 100000; x != 0; ++x) REQUIRE(fizz_divisible_odd(x, d) == (x % d == 0));
        for (int i = 0; i < 200000; ++i) {
            uint32_t x = static_cast<uint32_t>(rng());
            REQUIRE(fizz_divisible_odd(x, d) == (x % d == 0));
            uint32_t m = (x / d) * d;  // a multiple of d, and its neighbours
            REQUIRE(fizz_divisible_odd(m, d) == 1);
            if (m != 0) REQUIRE(fizz_divisible_odd(m - 1, d) == ((m - 1) % d == 0));
            REQUIRE(fizz_divisible_odd(m + 1, d) == ((m + 1) % d == 0));
        }
    }
}
