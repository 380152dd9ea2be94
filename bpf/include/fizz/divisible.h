/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Divisibility by a constant without a division. The BPF instruction set has a divide, so clang
 * keeps `x % d == 0` as one, and the JIT emits a real DIV on every packet (the single largest cost
 * in fizzbuzz's logic). For an odd d, x is a multiple of d exactly when x * d^-1 (mod 2^32) is at
 * most (2^32 - 1) / d: multiplying by the inverse maps the multiples of d one to one onto
 * 0 .. (2^32 - 1) / d (Granlund & Montgomery; Hacker's Delight 10-17). With d a compile-time
 * constant both the inverse and the bound fold to constants: one multiply and one compare.
 */
#ifndef FIZZ_DIVISIBLE_H
#define FIZZ_DIVISIBLE_H

#include <linux/types.h>

/* d^-1 mod 2^32 for an odd d, by Newton's iteration (each step doubles the correct low bits:
 * 3 -> 6 -> 12 -> 24 -> 48). */
static inline __u32 fizz_odd_inverse(__u32 d)
{
	__u32 inv = (d * 3) ^ 2; /* correct to 5 bits for any odd d */

	inv *= 2 - d * inv;
	inv *= 2 - d * inv;
	inv *= 2 - d * inv;
	return inv;
}

/* 1 when x is a multiple of the odd constant d, else 0. An even d is not supported: strip its
 * factor of two with a mask test first. */
static inline int fizz_divisible_odd(__u32 x, __u32 d)
{
	return (__u32)(x * fizz_odd_inverse(d)) <= 0xffffffffU / d;
}

#endif /* FIZZ_DIVISIBLE_H */
