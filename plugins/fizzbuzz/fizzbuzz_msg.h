/* Message of the fizzbuzz classifier (v2), shared by fizzbuzz.bpf.c and decoder.cpp. */
#ifndef FIZZBUZZ_MSG_H
#define FIZZBUZZ_MSG_H

#include <fizz/shared.h>

enum fizzbuzz_kind {
	FIZZBUZZ_KIND_FIZZ = 0,
	FIZZBUZZ_KIND_BUZZ = 1,
	FIZZBUZZ_KIND_FIZZBUZZ = 2,
	FIZZBUZZ_KIND_COUNT,
};

struct fizzbuzz_msg {
	__u32 kind;  /* enum fizzbuzz_kind */
	__u32 saddr; /* IPv4 source, host byte order */
};
FIZZ_STATIC_ASSERT(sizeof(struct fizzbuzz_msg) == 8, "fizzbuzz_msg is 8 bytes on both sides");

#endif
