/*
 * The fizzhost plugin ABI: plain C data behind one C entry point, so a plugin built by another
 * compiler (or another C++ standard library) still loads. Versioned like the Falco plugin API.
 *
 * Compatibility rule (what the host checks, per plugin):
 *   - abi_major must equal the host's FIZZHOST_PLUGIN_ABI_MAJOR, else the plugin is refused;
 *   - abi_minor at most the host's minor is accepted: the host reads only the members that minor
 *     defines, and struct_size must equal the descriptor size of exactly that minor (a table per
 *     minor in the host, never ">= sizeof(current)");
 *   - a newer minor is refused with a message naming both versions (the host cannot know whether
 *     the plugin relies on what it added).
 *
 * ABI history
 *   1.0  descriptor with name, version, program, message map/size, kinds, embedded object, decode.
 *   1.1  typed event fields (field_count, fields, decode_fields) and the metadata record: a copy of
 *        the descriptor's data without pointers in the ELF section FIZZHOST_METADATA_SECTION, so the
 *        host lists a plugin without running any of its code. The BPF object sits in the section
 *        FIZZHOST_OBJECT_SECTION. A 1.0 module has no metadata record: the host reads its descriptor
 *        in a confined worker process (never in its own) and checks the answer.
 *
 * fizzhost_event.value: unused by every host since 1.0 and ignored by 1.1 hosts; it stays for layout
 * compatibility. Report extra data through typed fields instead.
 */
#ifndef FIZZHOST_PLUGIN_ABI_H
#define FIZZHOST_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FIZZHOST_PLUGIN_MAGIC 0x7a7a6966u /* "fizz" little-endian */
#define FIZZHOST_PLUGIN_ABI_MAJOR 1
#define FIZZHOST_PLUGIN_ABI_MINOR 1
/* The one symbol a plugin exports: const struct fizzhost_plugin_descriptor *fizzhost_plugin_entry(void) */
#define FIZZHOST_PLUGIN_ENTRY_SYMBOL "fizzhost_plugin_entry"

/* ELF sections of a 1.1 module: the metadata record, and the embedded BPF object. */
#define FIZZHOST_METADATA_SECTION ".fizzhost.meta"
#define FIZZHOST_OBJECT_SECTION ".fizzhost.bpf"
#define FIZZHOST_METADATA_MAGIC 0x646d7a66u /* "fzmd" little-endian */

/* Bounds of the fixed-size names (each includes the terminating NUL). */
#define FIZZHOST_NAME_MAX 64       /* plugin name, version, program, message map */
#define FIZZHOST_KIND_NAME_MAX 32  /* one kind name */
#define FIZZHOST_FIELD_NAME_MAX 32 /* one field name */
#define FIZZHOST_MAX_KINDS 16      /* equals FIZZ_MAX_KINDS of the BPF side (checked by plugin.hpp) */
#define FIZZHOST_MAX_FIELDS 16
#define FIZZHOST_FIELD_TEXT_MAX 48 /* bytes of a string field value */

/* Decoder return codes besides 0 and -errno. */
#define FIZZHOST_DECODE_THREW (-10000) /* the decoder threw; the SDK's trampoline caught it */

/* What a decoder makes of one raw message. */
struct fizzhost_event {
	uint32_t kind;     /* index into the descriptor's kinds[] */
	uint32_t src_addr; /* IPv4 source, host byte order */
	uint64_t value;    /* ignored by the host (see the note above); leave 0 */
};

/* Decodes `size` raw bytes popped from the plugin's message map. Returns 0, or a negative errno
 * (-EINVAL for a malformed message). Must not throw (an exception that reaches this boundary ends
 * the worker process running the decoder), block or allocate. */
typedef int (*fizzhost_decode_fn)(const void *raw, uint32_t size, struct fizzhost_event *out);

/* ABI 1.1: the types an event field can have. */
enum fizzhost_field_type {
	FIZZHOST_FIELD_U64 = 1,    /* bits: the value */
	FIZZHOST_FIELD_I64 = 2,    /* bits: the value, two's complement */
	FIZZHOST_FIELD_BOOL = 3,   /* bits: 0 or 1 */
	FIZZHOST_FIELD_STRING = 4, /* text[0..length), UTF-8, not NUL-terminated */
	FIZZHOST_FIELD_IPV4 = 5,   /* bits: IPv4 address in host byte order (low 32 bits) */
	FIZZHOST_FIELD_DOUBLE = 6, /* bits: an IEEE-754 double's bytes */
};

/* One declared field: a name ([a-z0-9_], starting with a letter) and a type. No pointers: the same
 * struct appears in the metadata record. */
struct fizzhost_field_schema {
	char name[FIZZHOST_FIELD_NAME_MAX];
	uint32_t type; /* enum fizzhost_field_type */
	uint32_t reserved;
};

/* One field's value as the decoder fills it. The host clears `set` before each message; a field the
 * decoder leaves unset is shown as null. */
struct fizzhost_field_value {
	uint64_t bits;
	uint32_t length; /* STRING: bytes used in text */
	uint32_t set;    /* non-zero once filled */
	char text[FIZZHOST_FIELD_TEXT_MAX];
};

/* ABI 1.1 decoder: as fizzhost_decode_fn, and fills fields[0..field_count) (the declared order). */
typedef int (*fizzhost_decode_fields_fn)(const void *raw, uint32_t size, struct fizzhost_event *out,
					 struct fizzhost_field_value *fields, uint32_t field_count);

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

	fizzhost_decode_fn decode; /* 1.0 decoder; a 1.1 host calls decode_fields instead */

	/* ---- ABI 1.1 ---- */
	uint32_t field_count; /* entries in fields, at most FIZZHOST_MAX_FIELDS */
	uint32_t reserved_1_1;
	const struct fizzhost_field_schema *fields;
	fizzhost_decode_fields_fn decode_fields;
};

/* Descriptor size of each minor of major 1 (the host's per-minor table). */
#define FIZZHOST_DESCRIPTOR_SIZE_1_0 offsetof(struct fizzhost_plugin_descriptor, field_count)
#define FIZZHOST_DESCRIPTOR_SIZE_1_1 sizeof(struct fizzhost_plugin_descriptor)

/* The metadata record (ABI 1.1): what the catalog reads from the file without loading it. Fixed-size
 * fields only, no pointers, so it needs no relocation and reads the same from the file as from memory.
 * Strings are NUL-terminated within their arrays. */
struct fizzhost_plugin_metadata {
	uint32_t magic; /* FIZZHOST_METADATA_MAGIC */
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t record_size; /* sizeof(struct fizzhost_plugin_metadata) at build time */
	uint32_t message_size;
	uint32_t kind_count;
	uint32_t field_count;
	char name[FIZZHOST_NAME_MAX];
	char version[FIZZHOST_NAME_MAX];
	char program[FIZZHOST_NAME_MAX];
	char message_map[FIZZHOST_NAME_MAX];
	char kinds[FIZZHOST_MAX_KINDS][FIZZHOST_KIND_NAME_MAX];
	struct fizzhost_field_schema fields[FIZZHOST_MAX_FIELDS];
};

typedef const struct fizzhost_plugin_descriptor *(*fizzhost_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* FIZZHOST_PLUGIN_ABI_H */
