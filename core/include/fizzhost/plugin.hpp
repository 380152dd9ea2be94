// The C++ side of the plugin SDK: one macro turns a message type, a kind list, an optional field list
// and a decode function into the C ABI descriptor fizzhost loads, plus the metadata record the host
// reads from the file without running the module. Builds as C++17. The trampolines check the raw
// size before decoding and turn an exception thrown by a decoder declared without noexcept into
// FIZZHOST_DECODE_THREW. A noexcept decoder that throws calls std::terminate, which no trampoline
// can prevent: it ends the (confined) worker process running it, which the host counts and
// restarts. Declare noexcept only what cannot throw.
//
//     constexpr const char* kKinds[] = {"Even", "Odd"};
//     enum : uint32_t { kTtl, kProto };                       // field indexes, in declared order
//     constexpr fizzhost::sdk::Field kFields[] = {{"ttl", FIZZHOST_FIELD_U64},
//                                                 {"proto", FIZZHOST_FIELD_U64}};
//     int decode(const my_msg& m, fizzhost_event& e, fizzhost::sdk::Fields& f) noexcept {
//         e.kind = m.kind; e.src_addr = m.saddr;
//         f.u64(kTtl, m.ttl);
//         f.u64(kProto, m.proto);
//         return 0;
//     }
//     FIZZHOST_PLUGIN_WITH_FIELDS(my_msg, "my_xdp", kKinds, kFields, decode)
#pragma once

#include <fizz/shared.h>
#include <fizzhost/plugin_abi.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

extern "C" {
// Emitted by fizzhost_add_plugin(): the plugin's compiled BPF object, embedded in the module.
extern const unsigned char fizzhost_embedded_object[];
extern const unsigned char fizzhost_embedded_object_end[];
}

static_assert(FIZZHOST_MAX_KINDS == FIZZ_MAX_KINDS, "the ABI's kind bound is the BPF side's");

namespace fizzhost::sdk {

/// One declared event field.
struct Field {
    const char* name;
    fizzhost_field_type type;
};

/// What a decoder fills per message: one call per field, by its index in the declared list. A call
/// with an index out of range or of another type than declared is ignored. Never allocates.
class Fields {
public:
    Fields(fizzhost_field_value* values, const fizzhost_field_schema* schema, uint32_t count) noexcept
        : values_(values), schema_(schema), count_(count) {}

    void u64(uint32_t i, uint64_t v) noexcept { put(i, FIZZHOST_FIELD_U64, v); }
    void i64(uint32_t i, int64_t v) noexcept { put(i, FIZZHOST_FIELD_I64, static_cast<uint64_t>(v)); }
    void boolean(uint32_t i, bool v) noexcept { put(i, FIZZHOST_FIELD_BOOL, v ? 1 : 0); }
    /// `hostOrder`: the address in host byte order, as the SDK's parsers return it.
    void ipv4(uint32_t i, uint32_t hostOrder) noexcept { put(i, FIZZHOST_FIELD_IPV4, hostOrder); }
    void real(uint32_t i, double v) noexcept {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        put(i, FIZZHOST_FIELD_DOUBLE, bits);
    }
    /// Copies at most FIZZHOST_FIELD_TEXT_MAX bytes of `s`.
    void string(uint32_t i, const char* s, size_t n) noexcept {
        if (!accepts(i, FIZZHOST_FIELD_STRING)) return;
        if (n > FIZZHOST_FIELD_TEXT_MAX) n = FIZZHOST_FIELD_TEXT_MAX;
        std::memcpy(values_[i].text, s, n);
        values_[i].length = static_cast<uint32_t>(n);
        values_[i].set = 1;
    }
    /// A fixed-size char array of a message (up to its first NUL), or a string literal.
    template <size_t N>
    void string(uint32_t i, const char (&s)[N]) noexcept {
        size_t n = 0;
        while (n < N && s[n] != 0) ++n;
        string(i, s, n);
    }

private:
    bool accepts(uint32_t i, fizzhost_field_type t) const noexcept {
        return i < count_ && schema_[i].type == static_cast<uint32_t>(t);
    }
    void put(uint32_t i, fizzhost_field_type t, uint64_t bits) noexcept {
        if (!accepts(i, t)) return;
        values_[i].bits = bits;
        values_[i].set = 1;
    }

    fizzhost_field_value* values_;
    const fizzhost_field_schema* schema_;
    uint32_t count_;
};

/// True when `s` fits an array of N chars with its NUL (compile-time checks of names).
constexpr bool fits(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (s[i] == 0) return i > 0;
    return false;
}

template <size_t N>
constexpr void copyText(char (&dst)[N], const char* src) {
    for (size_t i = 0; i + 1 < N && src[i] != 0; ++i) dst[i] = src[i];
}

constexpr bool kindsFit(const char* const* kinds, size_t count) {
    for (size_t k = 0; k < count; ++k)
        if (!fits(kinds[k], FIZZHOST_KIND_NAME_MAX)) return false;
    return true;
}

constexpr bool fieldsValid(const Field* fields, size_t count) {
    for (size_t f = 0; f < count; ++f) {
        if (!fits(fields[f].name, FIZZHOST_FIELD_NAME_MAX)) return false;
        if (fields[f].type < FIZZHOST_FIELD_U64 || fields[f].type > FIZZHOST_FIELD_DOUBLE) return false;
        for (const char* c = fields[f].name; *c != 0; ++c)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9' && c != fields[f].name) || *c == '_'))
                return false;
    }
    return true;
}

/// The metadata record, built at compile time (constant-initialised: no code runs to make it).
constexpr fizzhost_plugin_metadata makeMetadata(const char* name, const char* version, const char* program,
                                                uint32_t messageSize, const char* const* kinds, size_t kindCount,
                                                const Field* fields, size_t fieldCount) {
    fizzhost_plugin_metadata m{};
    m.magic = FIZZHOST_METADATA_MAGIC;
    m.abi_major = FIZZHOST_PLUGIN_ABI_MAJOR;
    m.abi_minor = FIZZHOST_PLUGIN_ABI_MINOR;
    m.record_size = sizeof(fizzhost_plugin_metadata);
    m.message_size = messageSize;
    m.kind_count = static_cast<uint32_t>(kindCount);
    m.field_count = static_cast<uint32_t>(fieldCount);
    copyText(m.name, name);
    copyText(m.version, version);
    copyText(m.program, program);
    copyText(m.message_map, FIZZ_MAP_EVENTS);
    for (size_t k = 0; k < kindCount; ++k) copyText(m.kinds[k], kinds[k]);
    for (size_t f = 0; f < fieldCount; ++f) {
        copyText(m.fields[f].name, fields[f].name);
        m.fields[f].type = static_cast<uint32_t>(fields[f].type);
    }
    return m;
}

// Decoders may be declared noexcept or not. What a decoder without noexcept throws stops here; a
// noexcept one that throws never gets here (std::terminate is called inside it).
template <typename Msg, auto Decode>
int decodeTrampoline(const void* raw, uint32_t size, fizzhost_event* out) noexcept {
    try {
        if (raw == nullptr || out == nullptr || size != sizeof(Msg)) return -EINVAL;
        Msg msg;
        std::memcpy(&msg, raw, sizeof msg);  // queue and ring records carry no alignment promise
        *out = fizzhost_event{};
        return Decode(msg, *out);
    } catch (...) {
        return FIZZHOST_DECODE_THREW;
    }
}

template <typename Msg, auto Decode>
int decodeNoFieldsTrampoline(const void* raw, uint32_t size, fizzhost_event* out, fizzhost_field_value*,
                             uint32_t) noexcept {
    return decodeTrampoline<Msg, Decode>(raw, size, out);
}

template <typename Msg, auto Decode, const fizzhost_plugin_metadata& Meta>
int decodeFieldsTrampoline(const void* raw, uint32_t size, fizzhost_event* out, fizzhost_field_value* values,
                           uint32_t count) noexcept {
    try {
        if (raw == nullptr || out == nullptr || size != sizeof(Msg)) return -EINVAL;
        if (count != Meta.field_count || (count != 0 && values == nullptr)) return -EINVAL;
        Msg msg;
        std::memcpy(&msg, raw, sizeof msg);
        *out = fizzhost_event{};
        Fields fields(values, Meta.fields, count);
        return Decode(msg, *out, fields);
    } catch (...) {
        return FIZZHOST_DECODE_THREW;
    }
}

// The 1.0 entry (decode without fields) of a plugin with fields: decodes into scratch values.
template <typename Msg, auto Decode, const fizzhost_plugin_metadata& Meta>
int decodeDropFieldsTrampoline(const void* raw, uint32_t size, fizzhost_event* out) noexcept {
    fizzhost_field_value scratch[FIZZHOST_MAX_FIELDS];
    return decodeFieldsTrampoline<Msg, Decode, Meta>(raw, size, out, scratch, Meta.field_count);
}

}  // namespace fizzhost::sdk

#ifndef FIZZHOST_PLUGIN_NAME
#error "FIZZHOST_PLUGIN_NAME is set by fizzhost_add_plugin(); build plugins with it"
#endif
#ifndef FIZZHOST_PLUGIN_VERSION
#error "FIZZHOST_PLUGIN_VERSION is set by fizzhost_add_plugin(); build plugins with it"
#endif

#define FIZZHOST_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

#define FIZZHOST_PLUGIN_COUNT_(array) (sizeof(array) / sizeof((array)[0]))

// The parts both macros share: checks, the metadata record in its own section, the descriptor.
#define FIZZHOST_PLUGIN_DEFINE_(MsgType, program, kindNames, fieldList, fieldCount, decodeFallback, decodeFields) \
    static_assert(std::is_trivially_copyable_v<MsgType>, "messages are raw bytes: keep them POD");           \
    static_assert(FIZZHOST_PLUGIN_COUNT_(kindNames) <= FIZZ_MAX_KINDS, "at most FIZZ_MAX_KINDS message kinds"); \
    static_assert((fieldCount) <= FIZZHOST_MAX_FIELDS, "at most FIZZHOST_MAX_FIELDS event fields");         \
    static_assert(::fizzhost::sdk::fits(FIZZHOST_PLUGIN_NAME, FIZZHOST_NAME_MAX), "plugin name: 1-63 chars"); \
    static_assert(::fizzhost::sdk::fits(FIZZHOST_PLUGIN_VERSION, FIZZHOST_NAME_MAX), "version: 1-63 chars");  \
    static_assert(::fizzhost::sdk::fits(program, FIZZHOST_NAME_MAX), "program name: 1-63 chars");            \
    static_assert(::fizzhost::sdk::kindsFit(kindNames, FIZZHOST_PLUGIN_COUNT_(kindNames)),                   \
                  "kind names: 1-31 chars each");                                                            \
    static_assert(::fizzhost::sdk::fieldsValid(fieldList, fieldCount),                                       \
                  "field names: 1-31 chars of [a-z0-9_] starting with a letter or _, and a known type");    \
    __attribute__((section(FIZZHOST_METADATA_SECTION), used)) constexpr fizzhost_plugin_metadata              \
        fizzhost_plugin_metadata_record = ::fizzhost::sdk::makeMetadata(                                     \
            FIZZHOST_PLUGIN_NAME, FIZZHOST_PLUGIN_VERSION, program, sizeof(MsgType), kindNames,              \
            FIZZHOST_PLUGIN_COUNT_(kindNames), fieldList, fieldCount);                                       \
    FIZZHOST_PLUGIN_EXPORT const fizzhost_plugin_descriptor* fizzhost_plugin_entry(void) {                  \
        static const fizzhost_plugin_descriptor descriptor = {                                              \
            FIZZHOST_PLUGIN_MAGIC,                                                                           \
            FIZZHOST_PLUGIN_ABI_MAJOR,                                                                       \
            FIZZHOST_PLUGIN_ABI_MINOR,                                                                       \
            sizeof(fizzhost_plugin_descriptor),                                                              \
            0,                                                                                               \
            FIZZHOST_PLUGIN_NAME,                                                                            \
            FIZZHOST_PLUGIN_VERSION,                                                                         \
            program,                                                                                         \
            FIZZ_MAP_EVENTS,                                                                                 \
            sizeof(MsgType),                                                                                 \
            static_cast<uint32_t>(FIZZHOST_PLUGIN_COUNT_(kindNames)),                                        \
            kindNames,                                                                                       \
            fizzhost_embedded_object,                                                                        \
            static_cast<uint64_t>(fizzhost_embedded_object_end - fizzhost_embedded_object),                  \
            decodeFallback,                                                                                  \
            static_cast<uint32_t>(fieldCount),                                                               \
            0,                                                                                               \
            fizzhost_plugin_metadata_record.fields,                                                          \
            decodeFields,                                                                                    \
        };                                                                                                   \
        return &descriptor;                                                                                  \
    }

/// Defines a plugin whose events carry a kind and a source only. `MsgType` is the message struct
/// from the header shared with the BPF program, `program` the XDP program's name, `kindNames` a
/// `constexpr const char* []` of kind names, `decodeFn` an `int(const MsgType&, fizzhost_event&)`
/// returning 0 or -errno: noexcept only if it cannot throw (see the top of this file).
#define FIZZHOST_PLUGIN(MsgType, program, kindNames, decodeFn)                                              \
    static_assert(std::is_invocable_r_v<int, decltype(&decodeFn), const MsgType&, fizzhost_event&>,        \
                  "decoder must be int(const MsgType&, fizzhost_event&)");                                  \
    FIZZHOST_PLUGIN_DEFINE_(MsgType, program, kindNames, static_cast<const ::fizzhost::sdk::Field*>(nullptr), 0, \
                            (&::fizzhost::sdk::decodeTrampoline<MsgType, &decodeFn>),                        \
                            (&::fizzhost::sdk::decodeNoFieldsTrampoline<MsgType, &decodeFn>))

/// As FIZZHOST_PLUGIN, with typed event fields: `fieldList` a `constexpr fizzhost::sdk::Field[]`,
/// `decodeFn` an `int(const MsgType&, fizzhost_event&, fizzhost::sdk::Fields&)` filling them.
#define FIZZHOST_PLUGIN_WITH_FIELDS(MsgType, program, kindNames, fieldList, decodeFn)                       \
    static_assert(std::is_invocable_r_v<int, decltype(&decodeFn), const MsgType&, fizzhost_event&,         \
                                        ::fizzhost::sdk::Fields&>,                                           \
                  "decoder must be int(const MsgType&, fizzhost_event&, fizzhost::sdk::Fields&)");          \
    FIZZHOST_PLUGIN_DEFINE_(                                                                                 \
        MsgType, program, kindNames, fieldList, FIZZHOST_PLUGIN_COUNT_(fieldList),                           \
        (&::fizzhost::sdk::decodeDropFieldsTrampoline<MsgType, &decodeFn, fizzhost_plugin_metadata_record>), \
        (&::fizzhost::sdk::decodeFieldsTrampoline<MsgType, &decodeFn, fizzhost_plugin_metadata_record>))
