/* Message of the fields-probe test plugin: a few values of every field type, derived from the source
 * address so a test can predict each one. Shared by fields_probe.bpf.c and fields_probe.cpp. */
#ifndef FIELDS_PROBE_MSG_H
#define FIELDS_PROBE_MSG_H

#include <fizz/shared.h>

struct fields_probe_msg {
	__u32 kind;  /* 0 even source, 1 odd source */
	__u32 saddr; /* IPv4 source, host byte order */
	__u64 big;   /* saddr * 1000003 */
	__s64 delta; /* (saddr & 0xff) - 128 */
	__u32 odd;   /* saddr & 1 */
	__u32 pad;
	char label[16]; /* "odd \"q\"" or "even\\", NUL-padded */
};
FIZZ_STATIC_ASSERT(sizeof(struct fields_probe_msg) == 48, "fields_probe_msg is 48 bytes on both sides");

#endif
