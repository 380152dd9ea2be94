/* Message of the fibonacci classifier (v3), shared by fibonacci.bpf.c and decoder.cpp. */
#ifndef FIBONACCI_MSG_H
#define FIBONACCI_MSG_H

#include <fizz/shared.h>

enum fibonacci_kind {
	FIBONACCI_KIND_FIZZ = 0,
	FIBONACCI_KIND_BUZZ = 1,
	FIBONACCI_KIND_FIZZBUZZ = 2,
	FIBONACCI_KIND_FIBONACCI = 3,
	FIBONACCI_KIND_COUNT,
};

struct fibonacci_msg {
	__u32 kind;  /* enum fibonacci_kind */
	__u32 saddr; /* IPv4 source, host byte order */
};
FIZZ_STATIC_ASSERT(sizeof(struct fibonacci_msg) == 8, "fibonacci_msg is 8 bytes on both sides");

#endif
