/* Message of the web-tag test plugin, shared by web_tag.bpf.c and web_tag.cpp. */
#ifndef WEB_TAG_MSG_H
#define WEB_TAG_MSG_H

#include <fizz/shared.h>

enum web_tag_kind {
	WEB_TAG_KIND_FIZZ = 0,
	WEB_TAG_KIND_WEB = 1, /* 1.1.0 only */
};

/* The TCP destination port 1.1.0 tags as Web. */
#define WEB_TAG_PORT 8080

struct web_tag_msg {
	__u32 kind;  /* enum web_tag_kind */
	__u32 saddr; /* IPv4 source, host byte order */
};
FIZZ_STATIC_ASSERT(sizeof(struct web_tag_msg) == 8, "web_tag_msg is 8 bytes on both sides");

#endif
