/* Message of the fizz classifier (v1), shared by fizz.bpf.c and decoder.cpp. */
#ifndef FIZZ_MSG_H
#define FIZZ_MSG_H

#include <fizz/shared.h>

enum fizz_kind {
	FIZZ_KIND_FIZZ = 0,
};

struct fizz_msg {
	__u32 kind;  /* enum fizz_kind */
	__u32 saddr; /* IPv4 source, host byte order */
};
FIZZ_STATIC_ASSERT(sizeof(struct fizz_msg) == 8, "fizz_msg is 8 bytes on both sides");

#endif
