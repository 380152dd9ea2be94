// The C++ side of the plugin SDK: one macro turns a message type, a kind list and a decode function
// into the C ABI descriptor fizzhost loads. The macro static_asserts the decoder's signature, checks
// the raw size before decoding and keeps every exception inside the module.
#pragma once

#include <fizz/shared.h>
#include <fizzhost/plugin_abi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <type_traits>

extern "C" {
// Emitted by fizzhost_add_plugin(): the plugin's compiled BPF object, embedded in the module.
extern const unsigned char fizzhost_embedded_object[];
extern const unsigned char fizzhost_embedded_object_end[];
}

namespace fizzhost::sdk {

template <typename Msg, int (*Decode)(const Msg&, fizzhost_event&) noexcept>
int decodeTrampoline(const void* raw, uint32_t size, fizzhost_event* out) {
    if (raw == nullptr || out == nullptr || size != sizeof(Msg)) return -EINVAL;
    Msg msg;
    std::memcpy(&msg, raw, sizeof msg);  // queue and ring records carry no alignment promise
    *out = fizzhost_event{};
    return Decode(msg, *out);
}

}  // namespace fizzhost::sdk

#ifndef FIZZHOST_PLUGIN_NAME
#error "FIZZHOST_PLUGIN_NAME is set by fizzhost_add_plugin(); build plugins with it"
#endif
#ifndef FIZZHOST_PLUGIN_VERSION
#error "FIZZHOST_PLUGIN_VERSION is set by fizzhost_add_plugin(); build plugins with it"
#endif

#define FIZZHOST_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

/// Defines the plugin. `MsgType` is the message struct from the header shared with the BPF
/// program, `program` the XDP program's name, `kindNames` a `const char* const[]` of kind names,
/// `decodeFn` an `int(const MsgType&, fizzhost_event&) noexcept` returning 0 or -errno.
#define FIZZHOST_PLUGIN(MsgType, program, kindNames, decodeFn)                                   \
    static_assert(std::is_trivially_copyable_v<MsgType>, "messages are raw bytes: keep them POD"); \
    static_assert(sizeof(kindNames) / sizeof(kindNames[0]) <= FIZZ_MAX_KINDS,                    \
                  "at most FIZZ_MAX_KINDS message kinds");                                       \
    static_assert(std::is_same_v<decltype(&decodeFn), int (*)(const MsgType&, fizzhost_event&) noexcept>, \
                  "decoder must be int(const MsgType&, fizzhost_event&) noexcept");             \
    FIZZHOST_PLUGIN_EXPORT const fizzhost_plugin_descriptor* fizzhost_plugin_entry(void) {      \
        static const fizzhost_plugin_descriptor descriptor = {                                  \
            FIZZHOST_PLUGIN_MAGIC,                                                               \
            FIZZHOST_PLUGIN_ABI_MAJOR,                                                           \
            FIZZHOST_PLUGIN_ABI_MINOR,                                                           \
            sizeof(fizzhost_plugin_descriptor),                                                  \
            0,                                                                                   \
            FIZZHOST_PLUGIN_NAME,                                                                \
            FIZZHOST_PLUGIN_VERSION,                                                             \
            program,                                                                             \
            FIZZ_MAP_EVENTS,                                                                     \
            sizeof(MsgType),                                                                     \
            static_cast<uint32_t>(sizeof(kindNames) / sizeof(kindNames[0])),                     \
            kindNames,                                                                           \
            fizzhost_embedded_object,                                                            \
            static_cast<uint64_t>(fizzhost_embedded_object_end - fizzhost_embedded_object),      \
            &::fizzhost::sdk::decodeTrampoline<MsgType, decodeFn>,                               \
        };                                                                                       \
        return &descriptor;                                                                      \
    }
