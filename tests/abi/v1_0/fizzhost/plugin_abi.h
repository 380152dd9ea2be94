/*
 * The fizzhost plugin ABI: plain C data behind one C entry point, so a plugin built by another
 * compiler (or another C++ standard library) still loads. Versioned like the Falco plugin API: the
 * host accepts a plugin whose ABI major equals its own and whose minor is not newer than its own.
 *
 * ABI history
 *   1.0  descriptor with name, version, program, message map/size, kinds, embedded object, decode.
 */
#ifndef FIZZHOST_PLUGIN_ABI_H
#define FIZZHOST_PLUGIN_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FIZZHOST_PLUGIN_MAGIC 0x7a7a6966u /* "fizz" little-endian */
#define FIZZHOST_PLUGIN_ABI_MAJOR 1
#define FIZZHOST_PLUGIN_ABI_MINOR 0
/* The one symbol a plugin exports: const struct fizzhost_plugin_descriptor *fizzhost_plugin_entry(void) */
#define FIZZHOST_PLUGIN_ENTRY_SYMBOL "fizzhost_plugin_entry"

/* What a decoder makes of one raw message. */
struct fizzhost_event {
	uint32_t kind;     /* index into the descriptor's kinds[] */
	uint32_t src_addr; /* IPv4 source, host byte order */
	uint64_t value;    /* plugin-defined extra datum, 0 when unused */
};

/* Decodes `size` raw bytes popped from the plugin's message map. Returns 0, or a negative errno
 * (-EINVAL for a malformed message). Must not throw, block or allocate. */
typedef int (*fizzhost_decode_fn)(const void *raw, uint32_t size, struct fizzhost_event *out);

struct fizzhost_plugin_descriptor {
	uint32_t magic;      /* FIZZHOST_PLUGIN_MAGIC */
	uint16_t abi_major;  /* FIZZHOST_PLUGIN_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor;
	uint32_t struct_size; /* sizeof(struct fizzhost_plugin_descriptor) at build time */
	uint32_t reserved;

	const char *name;        /* unique plugin name, [A-Za-z0-9_-]+ */
	const char *version;     /* semver of the classifier, e.g. "2.0.0" */
	const char *program;     /* name of the XDP program in the object */
	const char *message_map; /* name of the queue map the program pushes into */
	uint32_t message_size;   /* sizeof the message struct; must equal the map's value size */
	uint32_t kind_count;     /* entries in kinds, at most FIZZ_MAX_KINDS */
	const char *const *kinds; /* kind names indexed by fizzhost_event.kind */

	const unsigned char *bpf_object; /* the compiled BPF ELF, embedded in the module */
	uint64_t bpf_object_size;

	fizzhost_decode_fn decode;
};

typedef const struct fizzhost_plugin_descriptor *(*fizzhost_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* FIZZHOST_PLUGIN_ABI_H */
