/* Message of the fibonacci-naive classifier, shared by fibonacci_naive.bpf.c and decoder.cpp. */
#ifndef FIBONACCI_NAIVE_MSG_H
#define FIBONACCI_NAIVE_MSG_H

#include <fizz/shared.h>

/* The kinds and their indices are those of the fibonacci plugin, so events compare one to one. */
enum fibonacci_naive_kind {
	FIBONACCI_NAIVE_KIND_FIZZ = 0,
	FIBONACCI_NAIVE_KIND_BUZZ = 1,
	FIBONACCI_NAIVE_KIND_FIZZBUZZ = 2,
	FIBONACCI_NAIVE_KIND_FIBONACCI = 3,
	FIBONACCI_NAIVE_KIND_COUNT,
};

struct fibonacci_naive_msg {
	__u32 kind;  /* enum fibonacci_naive_kind */
	__u32 saddr; /* IPv4 source, host byte order */
};
FIZZ_STATIC_ASSERT(sizeof(struct fibonacci_naive_msg) == 8, "fibonacci_naive_msg is 8 bytes on both sides");

#endif
